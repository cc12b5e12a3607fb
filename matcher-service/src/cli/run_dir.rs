//! Atomic run directories.
//!
//! `--out tonight` becomes a symbolic link to `.tonight.runs/<stamp>/`, a directory that is
//! written completely (every file synced) before the link is swapped to it with one
//! `rename(2)`, which replaces the old link atomically. A reader following `tonight/` therefore
//! always sees one whole run: the previous one until the swap, the new one after. A run that is
//! killed midway leaves only an unreferenced directory, which the next run removes; two runs at
//! once each write their own directory and the later swap wins, never a mix. Two runs are
//! kept: the one just published and the one it replaced, the newest *complete* ones (the
//! previous one is what `--previous` warm-starts from). Kept by what `out` pointed to, not by
//! age: six runs killed while writing once left a one-file fragment as "the previous run" and
//! removed the last complete one (issue 15, item 8).

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
        self.write_parts(name, &[bytes])
    }

    /// Writes one file of the run from parts, in order, and syncs it to disk: a file
    /// formatted in parallel chunks is never joined in memory.
    pub fn write_parts(&self, name: &str, parts: &[&[u8]]) -> anyhow::Result<()> {
        let path = self.dir.join(name);
        let mut file = fs::File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        for bytes in parts {
            file.write_all(bytes).with_context(|| format!("writing {}", path.display()))?;
        }
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
        // What readers saw until now: a whole run, published like this one.
        let previous = fs::read_link(&self.out).ok().and_then(|t| t.file_name().map(|n| n.to_owned()));
        std::os::unix::fs::symlink(&target, &link).with_context(|| format!("linking {}", link.display()))?;
        fs::rename(&link, &self.out)
            .with_context(|| format!("publishing the run at {}", self.out.display()))?;
        if let Some(parent) = self.out.parent() {
            let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            let _ = fs::File::open(parent).and_then(|d| d.sync_all());
        }
        self.prune(previous.as_deref());
        Ok(self.dir.clone())
    }

    /// Removes every run but the published one (whatever `out` points to now), the one it
    /// replaced (`previous`), and runs started after this one (another `matcher batch` may be
    /// writing them). What is left is older and was never published: a killed run's fragment.
    /// Best effort: a run that cannot be removed now is removed by a later one.
    fn prune(&self, previous: Option<&std::ffi::OsStr>) {
        let current = fs::read_link(&self.out).ok().and_then(|t| t.file_name().map(|n| n.to_owned()));
        let ours = self.dir.file_name().unwrap_or_default();
        let Ok(entries) = fs::read_dir(&self.runs) else { return };
        for name in entries.filter_map(|e| e.ok()).map(|e| e.file_name()) {
            let keep = Some(name.as_os_str()) == current.as_deref()
                || Some(name.as_os_str()) == previous
                || name.as_os_str() == ours
                || name.as_os_str() > ours;
            if !keep {
                let _ = fs::remove_dir_all(self.runs.join(&name));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15, item 8: runs killed while writing must not push the last complete run out.
    #[test]
    fn issue_15_clean_up_keeps_the_newest_complete_runs() {
        let root = std::env::temp_dir().join(format!("brobygger-rundir-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let out = root.join("tonight");
        let complete = |day: &str| {
            let run = RunDir::create(&out).unwrap();
            run.write("report.json", day.as_bytes()).unwrap();
            run.publish().unwrap()
        };
        let first = complete("1");
        let second = complete("2");
        // Six runs killed while writing: their directories stay behind, one file each.
        for _ in 0..6 {
            let run = RunDir::create(&out).unwrap();
            run.write("proposals.csv", b"half").unwrap();
            std::mem::forget(run);
        }
        let third = complete("3");
        assert_eq!(fs::read_to_string(out.join("report.json")).unwrap(), "3");
        let runs = root.join(".tonight.runs");
        let mut left: Vec<_> =
            fs::read_dir(&runs).unwrap().map(|e| runs.join(e.unwrap().file_name())).collect();
        left.sort();
        assert_eq!(left, vec![second.clone(), third], "the fragments and the oldest run are gone");
        assert_eq!(fs::read_to_string(second.join("report.json")).unwrap(), "2");
        assert!(!first.exists());
        let _ = fs::remove_dir_all(&root);
    }
}
