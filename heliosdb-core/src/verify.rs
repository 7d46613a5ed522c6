//! `verify`: authenticate and decrypt every record, report the bad ones with
//! their table and key.

use heliosdb_crypto::envelope_dek_id;

use crate::engine::{StorageEngine, VerifyFailure, VerifyReport};
use crate::store::Cf;
use crate::Result;

const MAX_REPORTED: usize = 100;

impl StorageEngine {
    /// Estimated number of records (for progress bars).
    pub fn estimate_records(&self) -> u64 {
        Cf::ALL
            .iter()
            .map(|&cf| self.store().estimate_records(cf))
            .sum()
    }

    /// Authenticates and decrypts every record. See [`StorageEngine::verify_with_progress`].
    ///
    /// # Errors
    /// Only storage errors that stop the walk; bad records are in the report.
    pub fn verify(&self) -> Result<VerifyReport> {
        self.verify_with_progress(|_| {})
    }

    /// Authenticates and decrypts every record of every column family,
    /// calling `progress` with the number of records checked so far.
    ///
    /// # Errors
    /// Only storage errors that stop the walk; bad records are in the report.
    pub fn verify_with_progress(&self, mut progress: impl FnMut(u64)) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        for cf in Cf::ALL {
            for item in self.store().raw_scan(cf)? {
                let (key, stored) = item?;
                report.records += 1;
                if report.records % 1024 == 0 {
                    progress(report.records);
                }
                match self.store().open_value(cf, &key, &stored) {
                    Ok(_) => {
                        if self.is_encrypted() {
                            if let Ok(id) = envelope_dek_id(&stored) {
                                *report.records_per_dek.entry(id.0).or_default() += 1;
                            }
                        }
                    }
                    Err(e) => {
                        report.failure_count += 1;
                        if report.failures.len() < MAX_REPORTED {
                            report.failures.push(VerifyFailure {
                                location: self.describe_record(cf, &key),
                                error: e.to_string(),
                            });
                        }
                    }
                }
            }
        }
        progress(report.records);
        Ok(report)
    }

    fn describe_record(&self, cf: Cf, key: &[u8]) -> String {
        let table_of = |k: &[u8]| {
            k.get(..4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
                .and_then(|id| self.table_name_by_id(id))
                .unwrap_or_else(|| "?".into())
        };
        match cf {
            Cf::Rows => format!("table '{}', record {}", table_of(key), hex::encode(key)),
            Cf::Index => format!(
                "index of table '{}', entry {}",
                table_of(key),
                hex::encode(key)
            ),
            Cf::Catalog => format!("catalog entry {}", hex::encode(key)),
            Cf::Kv if !self.is_encrypted() => {
                format!("key-value store, key \"{}\"", key.escape_ascii())
            }
            Cf::Kv => format!("key-value store, record {}", hex::encode(key)),
            Cf::Meta => format!("internal state, key \"{}\"", key.escape_ascii()),
        }
    }
}
