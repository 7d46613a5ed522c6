//! `heliosdb-nano quickstart`: the end-to-end demo. A throwaway encrypted
//! database with a fresh key, the tutorial's employees and patients data read
//! back, proof that the bytes on disk are ciphertext, and a wrong key refused.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context};
use heliosdb_core::config::KeySource as KeySourceConfig;
use heliosdb_core::{Column, Config, DataType, Schema, StorageEngine, Tuple, Value};
use heliosdb_keys::KeyManager;

const CANARIES: &[&str] = &[
    "123-45-6789",
    "4111-1111-1111-1111",
    "employees",
    "patients",
    "John Doe",
    "Type 2 Diabetes",
    "Metformin 500mg",
    "sensitive_data",
];

pub fn run(keep: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let temp;
    let root: &Path = match &keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            dir
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("heliosdb-quickstart-")
                .tempdir()?;
            temp.path()
        }
    };
    let db_path = root.join("encrypted_db");
    let key_path = root.join("encryption.key");
    if db_path.exists() || key_path.exists() {
        bail!(
            "{} already holds a quickstart database; choose an empty directory",
            root.display()
        );
    }

    println!("HeliosDB Nano quickstart — transparent encryption at rest\n");
    println!(
        "1. keygen: a fresh 256-bit key, written to {} (mode 0400)",
        key_path.display()
    );
    let km = KeyManager::generate_random();
    let hex = km
        .try_export_as_hex()
        .context("generated key is exportable")?;
    super::write_key_file(&key_path, hex.as_bytes())?;
    drop(hex);
    println!("   key source: {}", km.source());

    let mut config = Config::default();
    config.storage.path = Some(db_path.clone());
    config.encryption.enabled = true;
    config.encryption.key_source = KeySourceConfig::File(key_path.clone());

    println!("\n2. open an encrypted database at {}", db_path.display());
    {
        let storage = StorageEngine::open(&db_path, &config)?;
        println!(
            "   ✓ Encryption: {}",
            storage
                .encryption_info()
                .unwrap_or_else(|| "Disabled".into())
        );

        println!("\n3. key-value API: put(b\"test_key\", b\"sensitive_data\")");
        storage.put(b"test_key", b"sensitive_data")?;
        let raw = storage.db.get(b"test_key")?.context("raw value present")?;
        let plain = storage.get(b"test_key")?.context("value present")?;
        println!(
            "   raw bytes on disk ({} bytes): {}…",
            raw.len(),
            hex_prefix(&raw, 24)
        );
        println!(
            "   storage.get():                {:?}",
            String::from_utf8_lossy(&plain)
        );
        if raw == plain {
            bail!("raw bytes equal the plaintext: encryption is not working");
        }

        println!("\n4. tables: the tutorial's employees and patients");
        let catalog = storage.catalog();
        catalog.create_table(
            "employees",
            Schema::new(vec![
                Column::new("id", DataType::Int4).primary_key(),
                Column::new("ssn", DataType::Text),
                Column::new("credit_card", DataType::Text),
                Column::new("salary", DataType::Float8),
            ]),
        )?;
        storage.begin_transaction()?;
        for (id, ssn, card, salary) in [
            (1, "123-45-6789", "4111-1111-1111-1111", 125000.0),
            (2, "987-65-4321", "5500-0000-0000-0004", 98000.0),
            (3, "555-12-3456", "3400-0000-0000-009", 143500.0),
        ] {
            storage.insert_tuple(
                "employees",
                Tuple::new(vec![
                    Value::Int4(id),
                    Value::String(ssn.into()),
                    Value::String(card.into()),
                    Value::Float8(salary),
                ]),
            )?;
        }
        storage.commit()?;
        catalog.create_table(
            "patients",
            Schema::new(vec![
                Column::new("id", DataType::Int4).primary_key(),
                Column::new("name", DataType::Text).not_null(),
                Column::new("diagnosis", DataType::Text),
                Column::new("prescription", DataType::Text),
            ]),
        )?;
        catalog.create_index("patients", "diagnosis")?;
        storage.insert_batch(
            "patients",
            vec![
                patient(1, "John Doe", "Type 2 Diabetes", "Metformin 500mg"),
                patient(2, "Jane Roe", "Hypertension", "Lisinopril 10mg"),
                patient(3, "Max Mustermann", "Type 2 Diabetes", "Insulin glargine"),
            ],
        )?;
        for emp in storage.scan_table("employees")? {
            println!("   Employee: {}", show(&emp));
        }
        let diabetic = storage.find_by(
            "patients",
            "diagnosis",
            &Value::String("Type 2 Diabetes".into()),
        )?;
        println!(
            "   indexed lookup diagnosis = 'Type 2 Diabetes': {} patients",
            diabetic.len()
        );
        for p in &diabetic {
            println!("   Patient: {}", show(p));
        }
        storage.flush()?;
    }

    println!(
        "\n5. scan every byte of every file under {} for the plaintext",
        db_path.display()
    );
    let (files, bytes, hits) = scan_dir(&db_path)?;
    println!(
        "   {files} files, {bytes} bytes, {} plaintext hits for {} canaries",
        hits.len(),
        CANARIES.len()
    );
    for h in &hits {
        println!("   ✗ found {h}");
    }
    if !hits.is_empty() {
        bail!("plaintext found on disk");
    }

    println!("\n6. reopen with a wrong key");
    let wrong = KeyManager::generate_random();
    match StorageEngine::open_with_key_manager(&db_path, &config, &wrong) {
        Ok(_) => bail!("a wrong key opened the database"),
        Err(e) => println!("   ✓ refused: {e}"),
    }

    println!("\n7. reopen with the right key and verify every record");
    let storage = StorageEngine::open(&db_path, &config)?;
    let report = storage.verify()?;
    println!(
        "   ✓ {} records authenticated, {} failures; employees: {} rows",
        report.records,
        report.failure_count,
        storage.scan_table("employees")?.len()
    );
    if !report.is_ok() {
        bail!("verification failed");
    }
    drop(storage);

    match keep {
        Some(_) => println!(
            "\nkept: database {} and key file {}\ntry: heliosdb-nano info --path {0}",
            db_path.display(),
            key_path.display()
        ),
        None => {
            println!("\n(the demo database and its key were in a temporary directory, now removed)")
        }
    }
    println!("✓ quickstart complete");
    Ok(ExitCode::SUCCESS)
}

fn patient(id: i32, name: &str, diagnosis: &str, prescription: &str) -> Tuple {
    Tuple::new(vec![
        Value::Int4(id),
        Value::String(name.into()),
        Value::String(diagnosis.into()),
        Value::String(prescription.into()),
    ])
}

fn show(t: &Tuple) -> String {
    t.values
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn hex_prefix(b: &[u8], n: usize) -> String {
    b.iter().take(n).map(|x| format!("{x:02x}")).collect()
}

/// Reads every file under `dir` and reports which canaries appear where.
fn scan_dir(dir: &Path) -> anyhow::Result<(usize, u64, Vec<String>)> {
    let mut files = 0;
    let mut total = 0u64;
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let data = std::fs::read(&path)?;
            files += 1;
            total += data.len() as u64;
            for c in CANARIES {
                if data.windows(c.len()).any(|w| w == c.as_bytes()) {
                    hits.push(format!("{c:?} in {}", path.display()));
                }
            }
        }
    }
    Ok((files, total, hits))
}
