//! A small page-flowing PDF writer for reports (on `pdf-writer`): headings,
//! text lines, table rows at fixed column positions and filled bars, A4,
//! Helvetica (one of the 14 standard fonts, so nothing is embedded), new
//! pages as the text runs down. Text is WinAnsi-encoded; characters outside
//! it print as `?`. The output has no timestamps: the same report gives the
//! same bytes.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
/// Page margin, points.
pub const MARGIN: f32 = 56.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// A colour as RGB in 0..=1.
pub type Rgb = (f32, f32, f32);

/// Black.
pub const BLACK: Rgb = (0.0, 0.0, 0.0);

/// A document being laid out, top to bottom.
pub struct Doc {
    title: String,
    pages: Vec<Vec<u8>>,
    page: Content,
    y: f32,
}

impl Doc {
    /// An empty document whose metadata title is `title`.
    pub fn new(title: &str) -> Doc {
        Doc {
            title: title.to_string(),
            pages: Vec::new(),
            page: Content::new(),
            y: HEIGHT - MARGIN,
        }
    }

    /// Usable width between the margins.
    pub fn width(&self) -> f32 {
        WIDTH - 2.0 * MARGIN
    }

    fn new_page(&mut self) {
        let done = std::mem::replace(&mut self.page, Content::new());
        self.pages.push(done.finish().to_vec());
        self.y = HEIGHT - MARGIN;
    }

    /// Starts a new page unless `height` points still fit on this one.
    pub fn ensure(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.new_page();
        }
    }

    fn show(&mut self, x: f32, y: f32, bold: bool, size: f32, color: Rgb, text: &str) {
        let bytes = win_ansi(text);
        self.page
            .set_fill_rgb(color.0, color.1, color.2)
            .begin_text()
            .set_font(if bold { BOLD } else { REGULAR }, size)
            .next_line(x, y)
            .show(Str(&bytes))
            .end_text();
    }

    /// A heading (bold), with space above it.
    pub fn heading(&mut self, text: &str, size: f32) {
        self.ensure(size * 3.4);
        self.y -= size * 2.0;
        let y = self.y;
        self.show(MARGIN, y, true, size, BLACK, text);
        self.y -= size * 0.8;
    }

    /// One line of text, cut to what fits the width.
    pub fn line(&mut self, text: &str, color: Rgb) {
        self.row(&[(0.0, text)], false, color);
    }

    /// One table row: `(x offset from the margin, text)` cells, each cut to
    /// the space before the next cell (or the margin).
    pub fn row(&mut self, cells: &[(f32, &str)], bold: bool, color: Rgb) {
        const SIZE: f32 = 9.5;
        self.ensure(SIZE * 1.5);
        self.y -= SIZE * 1.5;
        let y = self.y;
        for (i, (x, text)) in cells.iter().enumerate() {
            let end = cells.get(i + 1).map_or(self.width(), |c| c.0);
            let text = fit(text, end - x - 6.0, SIZE);
            self.show(MARGIN + x, y, bold, SIZE, color, &text);
        }
    }

    /// A bar chart of `(label, value)`: bars scaled to the largest value,
    /// labels (cut to fit) under the bars, the value over each bar.
    pub fn bar_chart(&mut self, bars: &[(String, u64)], height: f32, color: Rgb) {
        let total = height + 30.0;
        self.ensure(total);
        let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1) as f32;
        let slot = (self.width() / bars.len().max(1) as f32).min(60.0);
        let base = self.y - height - 8.0;
        for (i, (label, v)) in bars.iter().enumerate() {
            let h = (*v as f32 / max) * height;
            let x = MARGIN + i as f32 * slot;
            self.page
                .set_fill_rgb(color.0, color.1, color.2)
                .rect(x, base, slot * 0.8, h.max(0.5))
                .fill_nonzero();
            let size = 7.0;
            let value = v.to_string();
            self.show(x, base + h + 2.0, false, size, BLACK, &value);
            let label = fit(label, slot - 2.0, size);
            self.show(x, base - size - 2.0, false, size, BLACK, &label);
        }
        self.y -= total;
    }

    /// The finished PDF file.
    pub fn finish(mut self) -> Vec<u8> {
        self.new_page();
        let mut pdf = Pdf::new();
        let catalog = Ref::new(1);
        let tree = Ref::new(2);
        let regular = Ref::new(3);
        let bold = Ref::new(4);
        let info = Ref::new(5);
        let first = 6;
        let page_ids: Vec<Ref> = (0..self.pages.len())
            .map(|i| Ref::new(first + 2 * i as i32))
            .collect();
        pdf.catalog(catalog).pages(tree);
        pdf.pages(tree)
            .kids(page_ids.iter().copied())
            .count(page_ids.len() as i32);
        for (i, content) in self.pages.iter().enumerate() {
            let id = page_ids[i];
            let content_id = Ref::new(id.get() + 1);
            let mut page = pdf.page(id);
            page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT))
                .parent(tree)
                .contents(content_id);
            page.resources()
                .fonts()
                .pair(REGULAR, regular)
                .pair(BOLD, bold);
            page.finish();
            pdf.stream(content_id, content);
        }
        for (id, name) in [(regular, &b"Helvetica"[..]), (bold, &b"Helvetica-Bold"[..])] {
            pdf.type1_font(id)
                .base_font(Name(name))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        pdf.document_info(info)
            .title(TextStr(&self.title))
            .producer(TextStr("HeliosDB Nano"));
        pdf.finish()
    }
}

/// `text` cut (with "...") to about `width` points at `size` (Helvetica's
/// average glyph is about half the size wide; digits and capitals wider).
fn fit(text: &str, width: f32, size: f32) -> String {
    let max = ((width / (size * 0.55)).floor() as usize).max(4);
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max - 3).collect();
    s.push_str("...");
    s
}

/// `text` in WinAnsiEncoding (Windows-1252): ASCII and Latin-1 as they are,
/// the typographic characters Windows-1252 adds, `?` for anything else.
/// Control characters (newlines in statement texts) become spaces.
pub fn win_ansi(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| match c {
            '\u{20}'..='\u{7e}' => c as u8,
            '\u{a0}'..='\u{ff}' => c as u32 as u8,
            '\u{20ac}' => 0x80,
            '\u{2026}' => 0x85,
            '\u{2018}' => 0x91,
            '\u{2019}' => 0x92,
            '\u{201c}' => 0x93,
            '\u{201d}' => 0x94,
            '\u{2022}' => 0x95,
            '\u{2013}' => 0x96,
            '\u{2014}' => 0x97,
            '\u{2122}' => 0x99,
            c if c.is_control() => b' ',
            _ => b'?',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn win_ansi_maps_latin1_and_dashes_and_replaces_the_rest() {
        assert_eq!(win_ansi("a–b é\n✓"), b"a\x96b \xe9 ?".to_vec());
    }

    #[test]
    fn long_text_is_cut_with_an_ellipsis() {
        let s = fit(&"x".repeat(500), 100.0, 10.0);
        assert!(s.ends_with("...") && s.len() < 30, "{s}");
        assert_eq!(fit("short", 100.0, 10.0), "short");
    }

    #[test]
    fn many_rows_flow_onto_more_pages() {
        let mut d = Doc::new("t");
        for i in 0..200 {
            d.line(&format!("line {i}"), BLACK);
        }
        let pdf = d.finish();
        let text = String::from_utf8_lossy(&pdf);
        assert!(pdf.starts_with(b"%PDF-"));
        // 200 lines at 14.25 pt on 730 pt of page: 4 pages.
        assert!(text.contains("/Count 4"), "page count");
    }
}
