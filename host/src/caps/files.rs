//! File grants: what a step may read, and the only way the host opens it.
//!
//! A grant is resolved once, when the run starts: its path (written by the operator or the
//! playbook author, who are trusted — a grant on a symlinked directory covers what the link
//! points to) is opened as a directory handle. Every read, grep and directory walk then opens
//! *beneath that handle* with `cap-std` (on Linux, `openat2` with `RESOLVE_BENEATH`, else
//! component-by-component resolution): a symlink or `..` that leads out of the granted
//! directory fails in the kernel, at the moment of the open. Canonicalising a path, checking
//! it, then opening it by name — what this module did before — left a window in which a
//! directory swapped for a symlink let a plugin read outside its grant (issue 7: 2 reads in
//! 20,000 leaked).
//!
//! What is opened must then pass, on the open descriptor itself (no second lookup):
//! - a **regular file**: FIFOs (an open or a read would wait for a writer forever), sockets and
//!   devices (`/dev/zero` never ends) are refused, and are never opened in the first place
//!   when a stat beneath the grant already shows what they are; opens are non-blocking;
//! - **not withheld**: the run's own secrets (the `--kafka-config` file) stay out of every
//!   grant, by device and inode, so neither a symlink nor a hard link to them gets through;
//! - **one link**, or named by the grant itself: a file with several hard links inside a
//!   granted directory may be another name for a file outside it (a hard link needs no
//!   access to its target's directory), so it is refused with the reason. A file the operator
//!   granted by its own name is trusted whatever its link count.
//!
//! Directory walks do not follow symlinks to directories (no loops, no file seen twice
//! through two names), visit each directory once by device and inode (bind-mount loops),
//! skip what they may not read, and stop at the step's deadline.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fmt;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use cap_fs_ext::{DirExt, FollowSymlinks, OpenOptionsFollowExt, OpenOptionsSyncExt};
use cap_std::fs::{Dir, OpenOptions};

use super::GrantError;

/// Directory entries one walk examines at most, so that a huge directory cannot make the
/// host hold an unbounded list of names.
pub const MAX_WALK_ENTRIES: usize = 100_000;

/// One `allow.files` entry.
#[derive(Clone)]
pub struct FileRule {
    /// The path as written in the playbook (after substitution), for messages.
    pub written: String,
    /// The path as written, made absolute and free of `.`/`..`, symlinks not resolved: a
    /// request may name the grant this way (a grant on a symlinked directory).
    pub lexical: PathBuf,
    /// The canonical path (symlinks resolved when the grant was made) when it exists, else
    /// `lexical`.
    pub root: PathBuf,
    /// The handle everything under the grant is opened beneath, or why there is none.
    anchor: Result<Arc<Anchor>, String>,
}

/// What a grant holds open.
enum Anchor {
    /// A granted directory: everything beneath it.
    Dir(Root),
    /// A granted file: its directory, and that one name in it.
    File {
        parent: Dir,
        name: OsString,
        /// The file the operator granted; it is trusted whatever its link count.
        identity: Identity,
    },
}

/// A file's identity: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Identity {
    dev: u64,
    ino: u64,
}

impl Identity {
    fn of(metadata: &std::fs::Metadata) -> Identity {
        Identity {
            dev: metadata.dev(),
            ino: metadata.ino(),
        }
    }
}

/// A file no grant exposes, whatever path, symlink or hard link names it.
#[derive(Debug, Clone)]
pub struct Withheld {
    identity: Identity,
    /// Why, for the denial: "the Kafka client config given with --kafka-config".
    what: String,
}

impl Withheld {
    /// Withhold the file at `path` (resolved now), described as `what` in denials.
    pub fn new(path: &Path, what: &str) -> io::Result<Withheld> {
        Ok(Withheld {
            identity: Identity::of(&std::fs::metadata(path)?),
            what: what.to_owned(),
        })
    }
}

/// Why a file request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileDenied {
    /// Outside the grant, or refused by the grant's rules (special file, hard link, withheld).
    Denied(String),
    /// Inside the grant, but it cannot be opened (missing, unreadable, a symlink loop).
    Unavailable(String),
    /// Not something this request can take (a directory given to `read`, too many files).
    Invalid(String),
    /// The step's deadline passed.
    TimedOut,
}

impl FileRule {
    /// A read-only grant on a file or directory, opened now.
    pub fn new(written: &str) -> Result<FileRule, GrantError> {
        if written.trim().is_empty() {
            return Err(GrantError {
                kind: "files",
                entry: written.to_owned(),
                reason: "the path is empty".into(),
            });
        }
        let lexical = normalize(&absolute(Path::new(written)));
        let root = std::fs::canonicalize(&lexical).unwrap_or_else(|_| lexical.clone());
        let anchor = Anchor::open(&lexical, &root).map(Arc::new);
        Ok(FileRule {
            written: written.to_owned(),
            lexical,
            root,
            anchor,
        })
    }

    /// The part of `requested` (absolute, normalised) below this grant, if it is below it.
    fn relative<'p>(&self, requested: &'p Path) -> Option<&'p Path> {
        requested
            .strip_prefix(&self.lexical)
            .or_else(|_| requested.strip_prefix(&self.root))
            .ok()
    }

    /// The handle, opened when the grant was made; a path that did not exist then is tried
    /// again (the operator named it, so resolving it now is as trusted).
    fn anchor(&self) -> Result<Arc<Anchor>, FileDenied> {
        match &self.anchor {
            Ok(anchor) => Ok(anchor.clone()),
            Err(_) => {
                let root =
                    std::fs::canonicalize(&self.lexical).unwrap_or_else(|_| self.lexical.clone());
                Anchor::open(&self.lexical, &root)
                    .map(Arc::new)
                    .map_err(|why| {
                        FileDenied::Unavailable(format!(
                            "the granted path {} cannot be opened: {why}",
                            self.lexical.display()
                        ))
                    })
            }
        }
    }
}

impl fmt::Debug for FileRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileRule")
            .field("written", &self.written)
            .field("lexical", &self.lexical)
            .field("root", &self.root)
            .field("opened", &self.anchor.is_ok())
            .finish()
    }
}

impl PartialEq for FileRule {
    fn eq(&self, other: &FileRule) -> bool {
        (&self.written, &self.lexical, &self.root) == (&other.written, &other.lexical, &other.root)
    }
}

impl Eq for FileRule {}

/// A granted directory's handle, and the names it is known by (as written, canonical).
struct Root {
    dir: Dir,
    names: [PathBuf; 2],
}

impl Root {
    /// Run `op` on `relative` beneath the root; if it fails because a symlink leads out, try
    /// once more with absolute symlinks that point back inside rewritten ([`rebase`]).
    fn beneath<T>(
        &self,
        relative: &Path,
        op: impl Fn(&Dir, &Path) -> io::Result<T>,
    ) -> io::Result<T> {
        match op(&self.dir, relative) {
            Err(error) if is_escape(&error) => match rebase(&self.dir, &self.names, relative) {
                Some(rebased) => op(&self.dir, &rebased),
                None => Err(error),
            },
            other => other,
        }
    }
}

impl Anchor {
    fn open(lexical: &Path, canonical: &Path) -> Result<Anchor, String> {
        let metadata = std::fs::metadata(canonical).map_err(|e| e.to_string())?;
        if metadata.is_dir() {
            return Dir::open_ambient_dir(canonical, cap_std::ambient_authority())
                .map(|dir| {
                    Anchor::Dir(Root {
                        dir,
                        names: [lexical.to_path_buf(), canonical.to_path_buf()],
                    })
                })
                .map_err(|e| e.to_string());
        }
        let (Some(parent), Some(name)) = (canonical.parent(), canonical.file_name()) else {
            return Err("not a file or directory".into());
        };
        let parent = Dir::open_ambient_dir(parent, cap_std::ambient_authority())
            .map_err(|e| e.to_string())?;
        Ok(Anchor::File {
            parent,
            name: name.to_owned(),
            identity: Identity::of(&metadata),
        })
    }
}

/// A requested path inside a grant, not yet opened. Owns what it needs, so it can move to
/// a blocking thread.
pub struct Granted {
    /// The path as the plugin named it (absolute, normalised), for results and messages.
    pub shown: PathBuf,
    anchor: Arc<Anchor>,
    /// Below the anchor's directory ("" is the granted directory itself).
    relative: PathBuf,
    withheld: Arc<[Withheld]>,
}

/// What a granted path turned out to be when opened.
pub enum Target {
    /// A regular file, open and checked.
    File(OpenedFile),
    /// A directory, to walk.
    Dir(GrantedDir),
}

/// A regular file opened beneath its grant and checked on its descriptor.
#[derive(Debug)]
pub struct OpenedFile {
    /// Its path as the plugin knows it.
    pub shown: PathBuf,
    /// The open file, positioned at its start.
    pub file: std::fs::File,
    /// Its size when opened.
    pub size: u64,
}

/// A granted directory (the grant's own or one below it), open, to walk and to open files
/// beneath.
pub struct GrantedDir {
    /// Its path as the plugin knows it.
    pub shown: PathBuf,
    /// This directory.
    dir: Dir,
    /// The grant's root, which files are opened beneath, and this directory's path in it.
    anchor: Arc<Anchor>,
    base: PathBuf,
    withheld: Arc<[Withheld]>,
}

/// What a walk found: regular files (as paths relative to the walked directory, opened
/// only when the scan reaches them) and how many entries it left out.
#[derive(Debug, Default)]
pub struct Walk {
    /// Files to scan, in name order.
    pub files: Vec<PathBuf>,
    /// Entries not scanned: special files, symlinks to directories or out of the grant,
    /// unreadable directories.
    pub skipped: u32,
}

impl Granted {
    /// Open the regular file this path names; anything else is refused with the reason.
    pub fn open_file(&self) -> Result<OpenedFile, FileDenied> {
        match self.open()? {
            Target::File(file) => Ok(file),
            Target::Dir(_) => Err(FileDenied::Invalid(format!(
                "{} is a directory; `read` takes a file (`grep` scans a directory)",
                self.shown.display()
            ))),
        }
    }

    /// Open what this path names: a regular file (checked) or a directory.
    pub fn open(&self) -> Result<Target, FileDenied> {
        let shown = &self.shown;
        match &*self.anchor {
            Anchor::Dir(root) => {
                let path = self.relative.as_path();
                let directory = |dir: Dir| {
                    Target::Dir(GrantedDir {
                        shown: shown.clone(),
                        dir,
                        anchor: self.anchor.clone(),
                        base: self.relative.clone(),
                        withheld: self.withheld.clone(),
                    })
                };
                if path.as_os_str().is_empty() {
                    let dir = root.dir.try_clone().map_err(|e| open_error(shown, &e))?;
                    return Ok(directory(dir));
                }
                let metadata = root
                    .beneath(path, |dir, path| dir.metadata(path))
                    .map_err(|e| open_error(shown, &e))?;
                if metadata.is_dir() {
                    let dir = root
                        .beneath(path, |dir, path| dir.open_dir(path))
                        .map_err(|e| open_error(shown, &e))?;
                    return Ok(directory(dir));
                }
                refuse_special(shown, &metadata.file_type())?;
                let file = root
                    .beneath(path, |dir, path| {
                        dir.open_with(path, &read_options(FollowSymlinks::Yes))
                    })
                    .map_err(|e| open_error(shown, &e))?;
                admit(shown, file.into_std(), &self.withheld, None).map(Target::File)
            }
            Anchor::File {
                parent,
                name,
                identity,
            } => {
                if !self.relative.as_os_str().is_empty() {
                    return Err(FileDenied::Unavailable(format!(
                        "{}: the grant is a file, not a directory",
                        shown.display()
                    )));
                }
                // The grant resolved the operator's symlinks; a symlink found here now was
                // put in the file's place since.
                let metadata = parent
                    .symlink_metadata(name)
                    .map_err(|e| open_error(shown, &e))?;
                if metadata.file_type().is_symlink() {
                    return Err(FileDenied::Denied(format!(
                        "{} was replaced by a symlink after the run started; it is not followed",
                        shown.display()
                    )));
                }
                refuse_special(shown, &metadata.file_type())?;
                let file = parent
                    .open_with(name, &read_options(FollowSymlinks::No))
                    .map_err(|e| open_error(shown, &e))?;
                admit(shown, file.into_std(), &self.withheld, Some(*identity)).map(Target::File)
            }
        }
    }

    /// The size and free space of the filesystem holding the path (for its disk usage), and
    /// its device: `fstatvfs` on a directory opened beneath the grant (the path's own, or
    /// its parent's when it is a file), so a symlink swapped in cannot redirect the question
    /// and every filesystem answers, tmpfs and network mounts included.
    pub fn space(&self) -> Result<Space, FileDenied> {
        let dir = match &*self.anchor {
            Anchor::Dir(root) if self.relative.as_os_str().is_empty() => root.dir.try_clone(),
            Anchor::Dir(root) => root
                .beneath(&self.relative, |dir, path| dir.open_dir(path))
                .or_else(|_| match self.relative.parent() {
                    Some(parent) if !parent.as_os_str().is_empty() => {
                        root.beneath(parent, |dir, path| dir.open_dir(path))
                    }
                    _ => root.dir.try_clone(),
                }),
            Anchor::File { parent, .. } => parent.try_clone(),
        }
        .map_err(|e| open_error(&self.shown, &e))?;
        let device = dir
            .dir_metadata()
            .map(|m| cap_std::fs::MetadataExt::dev(&m))
            .map_err(|e| open_error(&self.shown, &e))?;
        let stats =
            rustix::fs::fstatvfs(&dir).map_err(|e| open_error(&self.shown, &io::Error::from(e)))?;
        Ok(Space {
            device,
            total_bytes: stats.f_blocks.saturating_mul(stats.f_frsize),
            available_bytes: stats.f_bavail.saturating_mul(stats.f_frsize),
        })
    }
}

/// What [`GrantedPath::space`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Space {
    /// The filesystem's device.
    pub device: u64,
    /// Its size.
    pub total_bytes: u64,
    /// What an unprivileged writer may still use.
    pub available_bytes: u64,
}

impl GrantedDir {
    /// The regular files below, in name order (depth first), for a scan. `stop` is polled for
    /// every directory; `max_files` bounds the list.
    pub fn walk(&self, stop: &dyn Fn() -> bool, max_files: usize) -> Result<Walk, FileDenied> {
        let mut walk = Walk::default();
        let mut visited: HashSet<(u64, u64)> = HashSet::new();
        let mut entries_seen = 0usize;
        let mut pending: Vec<PathBuf> = vec![PathBuf::new()];
        while let Some(relative) = pending.pop() {
            if stop() {
                return Err(FileDenied::TimedOut);
            }
            let dir = if relative.as_os_str().is_empty() {
                self.dir.try_clone()
            } else {
                // Entered only as a directory seen in its parent; if it has become a symlink
                // since, it is not followed.
                self.dir.open_dir_nofollow(&relative)
            };
            let Ok(dir) = dir else {
                walk.skipped += 1;
                continue;
            };
            let Ok(metadata) = dir.dir_metadata() else {
                walk.skipped += 1;
                continue;
            };
            let identity = (
                cap_std::fs::MetadataExt::dev(&metadata),
                cap_std::fs::MetadataExt::ino(&metadata),
            );
            if !visited.insert(identity) {
                continue;
            }
            let Ok(entries) = dir.entries() else {
                walk.skipped += 1;
                continue;
            };
            let mut children = Vec::new();
            for entry in entries {
                entries_seen += 1;
                if entries_seen > MAX_WALK_ENTRIES {
                    return Err(self.too_many(&format!("{MAX_WALK_ENTRIES} entries")));
                }
                match entry {
                    Ok(entry) => children.push((entry.file_name(), entry.file_type())),
                    Err(_) => walk.skipped += 1,
                }
            }
            children.sort_by(|a, b| a.0.cmp(&b.0));
            let mut subdirs = Vec::new();
            for (name, file_type) in children {
                let child = relative.join(&name);
                let Ok(file_type) = file_type else {
                    walk.skipped += 1;
                    continue;
                };
                if file_type.is_dir() {
                    subdirs.push(child);
                } else if file_type.is_file() {
                    walk.files.push(child);
                } else if file_type.is_symlink() {
                    // A symlink to a file beneath the grant is read (opened beneath it, so it
                    // cannot lead out); to a directory it is not followed (loops).
                    match self
                        .root()
                        .beneath(&self.base.join(&child), |dir, path| dir.metadata(path))
                    {
                        Ok(target) if target.is_file() => walk.files.push(child),
                        _ => walk.skipped += 1,
                    }
                } else {
                    walk.skipped += 1;
                }
                if walk.files.len() > max_files {
                    return Err(self.too_many(&format!("{max_files} files")));
                }
            }
            // Depth first, in name order: the stack takes the last name first.
            pending.extend(subdirs.into_iter().rev());
        }
        walk.files.sort();
        Ok(walk)
    }

    /// Open a file the walk found (by its path relative to this directory), beneath the
    /// grant.
    pub fn open(&self, relative: &Path) -> Result<OpenedFile, FileDenied> {
        let shown = self.shown.join(relative);
        let path = self.base.join(relative);
        let root = self.root();
        let metadata = root
            .beneath(&path, |dir, path| dir.metadata(path))
            .map_err(|e| open_error(&shown, &e))?;
        refuse_special(&shown, &metadata.file_type())?;
        let file = root
            .beneath(&path, |dir, path| {
                dir.open_with(path, &read_options(FollowSymlinks::Yes))
            })
            .map_err(|e| open_error(&shown, &e))?;
        admit(&shown, file.into_std(), &self.withheld, None)
    }

    fn root(&self) -> &Root {
        match &*self.anchor {
            Anchor::Dir(root) => root,
            Anchor::File { .. } => {
                unreachable!("a directory is only found under a directory grant")
            }
        }
    }

    fn too_many(&self, what: &str) -> FileDenied {
        FileDenied::Invalid(format!(
            "{} holds more than {what}; grep a narrower path",
            self.shown.display()
        ))
    }
}

/// Read-only, non-blocking (a FIFO that slipped past the stat must not hang the open), no
/// controlling terminal.
fn read_options(follow: FollowSymlinks) -> OpenOptions {
    let mut options = OpenOptions::new();
    options.read(true).nonblock(true).follow(follow);
    options
}

/// Refuse what is not a regular file, before opening it (opening a device can act).
fn refuse_special(shown: &Path, file_type: &cap_std::fs::FileType) -> Result<(), FileDenied> {
    if file_type.is_file() {
        return Ok(());
    }
    let kind = if file_type.is_dir() {
        "a directory"
    } else if cap_std::fs::FileTypeExt::is_fifo(file_type) {
        "a FIFO (named pipe)"
    } else if cap_std::fs::FileTypeExt::is_socket(file_type) {
        "a socket"
    } else if cap_std::fs::FileTypeExt::is_char_device(file_type) {
        "a character device"
    } else if cap_std::fs::FileTypeExt::is_block_device(file_type) {
        "a block device"
    } else {
        "not a file"
    };
    Err(special(shown, kind))
}

fn special(shown: &Path, kind: &str) -> FileDenied {
    FileDenied::Denied(format!(
        "{} is {kind}, not a regular file: triage reads only regular files (a pipe or a \
         device may never end)",
        shown.display()
    ))
}

/// The checks made on the open descriptor: a regular file, not withheld, one link (or the
/// very file a grant names).
fn admit(
    shown: &Path,
    file: std::fs::File,
    withheld: &[Withheld],
    granted_by_name: Option<Identity>,
) -> Result<OpenedFile, FileDenied> {
    let metadata = file.metadata().map_err(|e| open_error(shown, &e))?;
    let file_type = metadata.file_type();
    if !file_type.is_file() {
        let kind = if file_type.is_fifo() {
            "a FIFO (named pipe)"
        } else if file_type.is_socket() {
            "a socket"
        } else if file_type.is_char_device() {
            "a character device"
        } else if file_type.is_block_device() {
            "a block device"
        } else {
            "not a file"
        };
        return Err(special(shown, kind));
    }
    let identity = Identity::of(&metadata);
    if let Some(secret) = withheld.iter().find(|w| w.identity == identity) {
        return Err(FileDenied::Denied(format!(
            "{} is {} (or a link to it): its credentials stay in the host and no grant \
             exposes it; to audit it, grant a copy without its secrets",
            shown.display(),
            secret.what
        )));
    }
    if metadata.nlink() > 1 && granted_by_name != Some(identity) {
        return Err(FileDenied::Denied(format!(
            "{} has {} hard links, and another name for it may be outside this step's grant; \
             triage does not read hard-linked files under a granted directory (grant the \
             file by its own path if it should be readable)",
            shown.display(),
            metadata.nlink()
        )));
    }
    Ok(OpenedFile {
        shown: shown.to_path_buf(),
        size: metadata.len(),
        file,
    })
}

/// cap-std reports an escape (openat2's EXDEV, or its own resolver's refusal) as
/// PermissionDenied without an OS error code; a real EACCES carries one.
fn is_escape(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::PermissionDenied && error.raw_os_error().is_none()
}

/// `relative` with every symlink on its way resolved, as a path beneath the root, when the
/// only obstacle was an absolute symlink pointing back inside the grant (what tools write
/// when they know a directory only by its full name: `current -> /var/log/kafka/x.log`).
/// `RESOLVE_BENEATH` refuses those outright. The result is still opened beneath the root,
/// so a link swapped in after this rewrite is caught by the kernel all the same. `None`
/// when the path leads out, is missing, or loops.
fn rebase(dir: &Dir, names: &[PathBuf], relative: &Path) -> Option<PathBuf> {
    // Linux's own limit on symlinks followed in one lookup.
    const MAX_LINKS: usize = 40;
    enum Part {
        Name(OsString),
        Up,
    }
    fn parts(path: &Path) -> Option<Vec<Part>> {
        let mut parts = Vec::new();
        for component in path.components() {
            match component {
                Component::Normal(name) => parts.push(Part::Name(name.to_owned())),
                Component::ParentDir => parts.push(Part::Up),
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => return None,
            }
        }
        Some(parts)
    }
    let mut pending = parts(relative)?;
    pending.reverse();
    let mut resolved = PathBuf::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        let name = match part {
            Part::Name(name) => name,
            Part::Up => {
                // Up from the root leads out.
                if !resolved.pop() {
                    return None;
                }
                continue;
            }
        };
        let candidate = resolved.join(&name);
        if !dir
            .symlink_metadata(&candidate)
            .ok()?
            .file_type()
            .is_symlink()
        {
            resolved = candidate;
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return None;
        }
        let target = dir.read_link_contents(&candidate).ok()?;
        let rest = if target.is_absolute() {
            let target = normalize(&target);
            let inside = names.iter().find_map(|n| target.strip_prefix(n).ok())?;
            resolved = PathBuf::new();
            parts(inside)?
        } else {
            parts(&target)?
        };
        pending.extend(rest.into_iter().rev());
    }
    Some(resolved)
}

/// An open or stat beneath a grant failed: say why in an operator's words.
fn open_error(shown: &Path, error: &io::Error) -> FileDenied {
    if is_escape(error) {
        return FileDenied::Denied(format!(
            "{} leads out of its granted directory (through a symlink, possibly one swapped \
             in while the step ran); grant the target itself if it should be readable",
            shown.display()
        ));
    }
    const ELOOP: i32 = 40;
    if error.raw_os_error() == Some(ELOOP) {
        return FileDenied::Unavailable(format!(
            "{}: a symlink loop (or a symlink where none may be followed)",
            shown.display()
        ));
    }
    FileDenied::Unavailable(format!("{}: {error}", shown.display()))
}

/// Find the grant covering `requested` (the most specific wins); `outside` words the denial
/// when none does.
pub(super) fn resolve(
    rules: &[FileRule],
    withheld: &[Withheld],
    requested: &str,
    outside: impl FnOnce(&Path) -> FileDenied,
) -> Result<Granted, FileDenied> {
    let lexical = normalize(&absolute(Path::new(requested)));
    let Some((rule, relative)) = rules
        .iter()
        .filter_map(|rule| rule.relative(&lexical).map(|r| (rule, r.to_path_buf())))
        .min_by_key(|(_, relative)| relative.components().count())
    else {
        return Err(outside(&lexical));
    };
    Ok(Granted {
        anchor: rule.anchor()?,
        shown: lexical,
        relative,
        withheld: withheld.into(),
    })
}

pub(super) fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    }
}

/// Resolve `.` and `..` without touching the file system.
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::Grant;
    use super::*;

    fn grant(paths: &[&Path]) -> Grant {
        Grant {
            files: paths
                .iter()
                .map(|p| FileRule::new(p.to_str().unwrap()).unwrap())
                .collect(),
            ..Grant::default()
        }
    }

    fn read(grant: &Grant, path: &Path) -> Result<String, FileDenied> {
        let mut text = String::new();
        let mut opened = grant.check_read(path.to_str().unwrap())?.open_file()?;
        std::io::Read::read_to_string(&mut opened.file, &mut text).unwrap();
        Ok(text)
    }

    fn denied(result: Result<String, FileDenied>) -> String {
        match result {
            Err(FileDenied::Denied(why)) => why,
            other => panic!("expected a denial, got {other:?}"),
        }
    }

    #[test]
    fn files_are_denied_outside_via_dotdot_and_via_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let granted = dir.path().join("logs");
        std::fs::create_dir(&granted).unwrap();
        std::fs::write(granted.join("server.log"), "x").unwrap();
        std::fs::write(dir.path().join("secret"), "s").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), granted.join("link")).unwrap();
        std::os::unix::fs::symlink("../secret", granted.join("relative")).unwrap();
        let grant = grant(&[&granted]);

        assert_eq!(read(&grant, &granted.join("server.log")).unwrap(), "x");
        for outside in [Path::new("/etc/passwd"), &granted.join("../secret")] {
            let why = denied(read(&grant, outside));
            assert!(why.contains("allow: (files"), "{why}");
        }
        for link in ["link", "relative"] {
            let why = denied(read(&grant, &granted.join(link)));
            assert!(why.contains("symlink"), "{why}");
        }
        assert!(matches!(
            read(&grant, &granted.join("missing")),
            Err(FileDenied::Unavailable(_))
        ));
        assert!(matches!(
            read(&grant, &granted),
            Err(FileDenied::Invalid(why)) if why.contains("is a directory")
        ));
    }

    #[test]
    fn a_symlinked_directory_grant_covers_both_names() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        std::fs::write(real.join("a.log"), "a").unwrap();
        let alias = dir.path().join("alias");
        std::os::unix::fs::symlink(&real, &alias).unwrap();
        let grant = grant(&[&alias]);
        assert_eq!(read(&grant, &alias.join("a.log")).unwrap(), "a");
        assert_eq!(read(&grant, &real.join("a.log")).unwrap(), "a");
    }

    #[test]
    fn hard_links_are_refused_unless_the_grant_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let granted = dir.path().join("logs");
        std::fs::create_dir(&granted).unwrap();
        let target = dir.path().join("shadow");
        std::fs::write(&target, "s").unwrap();
        std::fs::hard_link(&target, granted.join("linked")).unwrap();
        let why = denied(read(&grant(&[&granted]), &granted.join("linked")));
        assert!(why.contains("2 hard links"), "{why}");
        // The operator granted the file by its own name: trusted.
        let by_name = granted.join("linked");
        assert_eq!(read(&grant(&[&by_name]), &by_name).unwrap(), "s");
    }

    #[test]
    fn withheld_files_are_refused_by_any_name() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("client.properties");
        std::fs::write(&config, "sasl.password=x").unwrap();
        std::os::unix::fs::symlink(&config, dir.path().join("alias")).unwrap();
        let mut grant = grant(&[dir.path(), &config]);
        grant.withheld = vec![Withheld::new(&config, "the --kafka-config file").unwrap()];
        for name in ["client.properties", "alias"] {
            let why = denied(read(&grant, &dir.path().join(name)));
            assert!(why.contains("the --kafka-config file"), "{why}");
        }
    }

    #[test]
    fn special_files_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let zero = Path::new("/dev/zero");
        let grant = grant(&[dir.path(), zero]);
        assert!(denied(read(&grant, &fifo)).contains("a FIFO (named pipe), not a regular file"));
        assert!(denied(read(&grant, zero)).contains("a character device"));
    }

    #[test]
    fn walks_skip_loops_and_special_files_and_see_each_file_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("logs");
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::write(root.join("a/b/one.log"), "1").unwrap();
        std::fs::write(root.join("two.log"), "2").unwrap();
        std::os::unix::fs::symlink(".", root.join("self")).unwrap();
        std::os::unix::fs::symlink("..", root.join("a/b/up")).unwrap();
        std::os::unix::fs::symlink("knot", root.join("knot")).unwrap();
        std::os::unix::fs::symlink("two.log", root.join("alias.log")).unwrap();
        std::os::unix::fs::symlink("/etc/passwd", root.join("passwd")).unwrap();
        // Absolute, and back inside the grant: followed.
        std::os::unix::fs::symlink(root.join("a/b/one.log"), root.join("abs.log")).unwrap();
        let grant = grant(&[&root]);
        let Target::Dir(dir) = grant
            .check_read(root.to_str().unwrap())
            .unwrap()
            .open()
            .unwrap()
        else {
            panic!("not a directory")
        };
        let walk = dir.walk(&|| false, 100).unwrap();
        assert_eq!(
            walk.files,
            [
                PathBuf::from("a/b/one.log"),
                PathBuf::from("abs.log"),
                PathBuf::from("alias.log"),
                PathBuf::from("two.log")
            ]
        );
        // self, up, knot, passwd.
        assert_eq!(walk.skipped, 4);
        assert!(matches!(dir.walk(&|| true, 100), Err(FileDenied::TimedOut)));
        assert!(matches!(
            dir.walk(&|| false, 1),
            Err(FileDenied::Invalid(_))
        ));
    }
}
