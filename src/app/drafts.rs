//! Compose drafts kept on disk between runs (and saved on SIGHUP/SIGTERM), as one JSON
//! file with owner-only permissions in the data directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The drafts file inside `data_dir`.
pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("drafts.json")
}

/// Read drafts; a missing or unreadable file is no drafts (logged, not fatal).
pub fn load(data_dir: &Path) -> BTreeMap<String, String> {
    let p = path(data_dir);
    match std::fs::read_to_string(&p) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "drafts file unreadable; starting without drafts");
            BTreeMap::new()
        }),
        Err(_) => BTreeMap::new(),
    }
}

/// Write all drafts (empty ones are dropped), 0600, atomically.
pub fn save(data_dir: &Path, drafts: &BTreeMap<String, String>) -> std::io::Result<()> {
    let kept: BTreeMap<&String, &String> = drafts.iter().filter(|(_, t)| !t.trim().is_empty()).collect();
    std::fs::create_dir_all(data_dir)?;
    let json = serde_json::to_vec_pretty(&kept).map_err(std::io::Error::other)?;
    let mut tmp = tempfile::NamedTempFile::new_in(data_dir)?;
    std::io::Write::write_all(&mut tmp, &json)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.persist(path(data_dir)).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_drops_empty() {
        let dir = tempfile::tempdir().unwrap();
        let mut d = BTreeMap::new();
        d.insert("sam".to_owned(), "hello".to_owned());
        d.insert("jo".to_owned(), "  ".to_owned());
        save(dir.path(), &d).unwrap();
        let back = load(dir.path());
        assert_eq!(back.len(), 1);
        assert_eq!(back["sam"], "hello");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path(dir.path())).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
