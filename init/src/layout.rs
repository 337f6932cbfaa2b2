//! Where things are at run time: the live directory (a tmpfs on /run in
//! boot mode) and the names stage 1, the shutdown daemon and the shutdown
//! commands agree on. The basedir's run-image is copied into `LIVE`.

use core::ffi::CStr;

/// The basedir when neither `-c` nor the program name says otherwise.
pub const DEFAULT_BASEDIR: &[u8] = b"/etc/rinit";
/// The live directory: the run-image is copied here (tmpfs in boot mode).
pub const LIVE: &CStr = c"/run";
/// The scan directory `rinit-scan` runs on (from the run-image's `service/`).
pub const SCANDIR: &[u8] = b"/run/service";
/// rinit's own live state: `basedir` (symlink), `container`, `exitcode`, `action`.
pub const STATE: &CStr = c"/run/rinit";
/// Symlink to the basedir, so every tool finds the scripts and settings.
pub const BASEDIR_LINK: &CStr = c"/run/rinit/basedir";
/// Present in container mode: stage 3 exits instead of calling reboot(2).
pub const CONTAINER_FLAG: &CStr = c"/run/rinit/container";
/// The container's main program's exit code, as decimal text.
pub const EXITCODE: &CStr = c"/run/rinit/exitcode";
/// What the shutdown daemon asks pid 1's last stage to do (`request` format).
pub const ACTION: &CStr = c"/run/rinit/action";
/// Where `ACTION` is written before it is renamed into place.
pub const ACTION_NEW: &CStr = c"/run/rinit/action.new";

/// The catch-all logger's service directory name in the scan directory.
pub const CATCHALL: &[u8] = b"rinit-log-catchall";
/// The FIFO everything the supervision tree prints goes through.
pub const CATCHALL_FIFO: &CStr = c"/run/service/rinit-log-catchall/fifo";
/// The catch-all logger's service directory.
pub const CATCHALL_DIR: &CStr = c"/run/service/rinit-log-catchall";
/// The catch-all logger's log directory.
pub const UNCAUGHT_LOGS: &[u8] = b"/run/uncaught-logs";
/// The shutdown daemon's service directory name.
pub const SHUTDOWND: &[u8] = b"rinit-shutdownd";
/// The FIFO the shutdown daemon reads requests from (name inside its service dir).
pub const SHUTDOWND_FIFO_NAME: &CStr = c"fifo";
/// The same FIFO, absolute.
pub const SHUTDOWND_FIFO: &CStr = c"/run/service/rinit-shutdownd/fifo";
/// The shutdown daemon's service directory.
pub const SHUTDOWND_DIR: &CStr = c"/run/service/rinit-shutdownd";
/// The early getty's service directory name (`rinit-maker -G`).
pub const EARLY_GETTY: &[u8] = b"rinit-early-getty";

/// The scripts in `<basedir>/scripts/`.
pub const RC_INIT: &[u8] = b"/scripts/rc.init";
pub const RC_SHUTDOWN: &[u8] = b"/scripts/rc.shutdown";
pub const RC_SHUTDOWN_FINAL: &[u8] = b"/scripts/rc.shutdown.final";
pub const RUNLEVEL: &[u8] = b"/scripts/runlevel";

/// The last path component of `p` (how the multi-call binaries dispatch).
pub fn basename(p: &[u8]) -> &[u8] {
    match p.iter().rposition(|&c| c == b'/') {
        Some(i) => p.get(i + 1..).unwrap_or(p),
        None => p,
    }
}
