//! Atomic run directories.
//!
//! `--out tonight` becomes a symbolic link to `.tonight.runs/<stamp>/`, a directory that is
//! written completely (every file synced) before the link is swapped to it with one
//! `rename(2)`, which replaces the old link atomically. A reader following `tonight/` therefore
//! always sees one whole run: the previous one until the swap, the new one after. A run that is
//! killed midway leaves only an unreferenced directory, which the next run removes; two runs at
//! once each write their own directory and the later swap wins, never a mix. The two newest
//! runs are kept (the previous one is what `--previous` warm-starts from).

use anyhow::{Context, bail};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A run directory being written.
pub struct RunDir {
    out: PathBuf,
    runs: PathBuf,
    dir: PathBuf,
}

impl RunDir {
    /// Starts a new run for `out`.
    pub fn create(out: &Path) -> anyhow::Result<RunDir> {
        let name = out.file_name().with_context(|| format!("{} has no file name", out.display()))?;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).with_context(|| format!("creating {}", parent.display()))?;
        if let Ok(meta) = fs::symlink_metadata(out)
            && !meta.file_type().is_symlink()
        {
            let empty_dir =
                meta.is_dir() && fs::read_dir(out).map(|mut d| d.next().is_none()).unwrap_or(false);
            if !empty_dir {
                bail!(
                    "{} exists and is not a run directory written by `matcher batch`; choose another --out",
                    out.display()
                );
            }
            fs::remove_dir(out)
                .with_context(|| format!("replacing the empty directory {}", out.display()))?;
        }
        let runs = parent.join(format!(".{}.runs", name.to_string_lossy()));
        fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
        let stamp =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let dir = runs.join(format!("{stamp:024}-{}", std::process::id()));
        fs::create_dir(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(RunDir { out: out.to_path_buf(), runs, dir })
    }

    /// Writes one file of the run and syncs it to disk.
    pub fn write(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.dir.join(name);
        let mut file = fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        file.write_all(bytes).with_context(|| format!("writing {}", path.display()))?;
        file.sync_all().with_context(|| format!("syncing {}", path.display()))?;
        Ok(())
    }

    /// Makes the run visible at `out`, atomically, and removes runs older than the previous one.
    pub fn publish(self) -> anyhow::Result<PathBuf> {
        fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("syncing {}", self.dir.display()))?;
        let target = PathBuf::from(self.runs.file_name().unwrap_or_default())
            .join(self.dir.file_name().unwrap_or_default());
        let link = self.runs.with_file_name(format!(
            ".{}.link-{}",
            self.out.file_name().unwrap_or_default().to_string_lossy(),
            std::process::id()
        ));
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(&target, &link).with_context(|| format!("linking {}", link.display()))?;
        fs::rename(&link, &self.out)
            .with_context(|| format!("publishing the run at {}", self.out.display()))?;
        if let Some(parent) = self.out.parent() {
            let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            let _ = fs::File::open(parent).and_then(|d| d.sync_all());
        }
        self.prune();
        Ok(self.dir.clone())
    }

    /// Removes all runs but the current one and the newest other one. Best effort: a run that
    /// cannot be removed now is removed by a later one.
    fn prune(&self) {
        let current = fs::read_link(&self.out).ok().and_then(|t| t.file_name().map(|n| n.to_owned()));
        let Ok(entries) = fs::read_dir(&self.runs) else { return };
        let mut names: Vec<_> = entries.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
        names.sort();
        let keep_from = names.len().saturating_sub(2);
        for (i, name) in names.iter().enumerate() {
            if i < keep_from && Some(name) != current.as_ref() {
                let _ = fs::remove_dir_all(self.runs.join(name));
            }
        }
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        // A run that was not published (an error on the way) leaves nothing behind.
        let published = fs::read_link(&self.out).ok().is_some_and(|t| t.file_name() == self.dir.file_name());
        if !published {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}
