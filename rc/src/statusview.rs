//! `rinit-rc-db status`: rinit-status's table of a scan directory (the
//! supervision tree's rows and printer, from rinit-supervise) with
//! rinit-rc's view of a live state added: each service's type and whether
//! rinit-rc counts it up, and a row for what has no service directory
//! (oneshots, bundles, a longrun missing from the scan directory).
//! rinit-status hands over to it when there is a live state, so rinit-rc's
//! database is read by rinit-rc's programs only.

use crate::db::{Db, Kind, MAX_SERVICES};
use crate::live;
use base::err;
use base::sys::{self, errno, StaticCell};
use supervise::statusrow::{self, Rc, Rows, State};
use supervise::statustable::{self, Shown};
use supervise::statustext::Line;

static ROWS: StaticCell<Rows> = StaticCell::new(Rows::new());
static STATE: StaticCell<[u8; MAX_SERVICES]> = StaticCell::new([0; MAX_SERVICES]);

/// Prints the table of the scan directory `scan` with the view of the live
/// directory `live` (`-j`: one JSON object per line), and exits.
pub fn show(live: &[u8], json: bool, scan: &core::ffi::CStr) -> ! {
    let (Some(rows), Some(state)) = (ROWS.take(), STATE.take()) else { sys::exit(err::EXIT_SYS) };
    // The live state first: its path may be relative to where we started.
    let db = read_live(live, state);
    let cgroup = statusrow::read_scandir(rows, scan);
    add_rc_view(rows, &db, state);
    statustable::show(rows, Shown { rc: true, cgroup }, json)
}

/// The database and the up/down state of the live directory `dir`; one
/// that cannot be read is fatal.
#[inline(never)]
fn read_live(dir: &[u8], state: &mut [u8; MAX_SERVICES]) -> Db<'static> {
    // The path as the kernel takes it, made in the line buffer the table
    // has already: no PathBuf's code for one path.
    let mut path = Line::new();
    path.push(dir).byte(0);
    let r = match sys::cstr(path.as_bytes()) {
        Some(c) => live::open_to_show(c, state),
        None => Err(live::ShowError::Db(live::OpenError::Sys(errno::ENAMETOOLONG))),
    };
    match r {
        Ok(db) => db,
        Err(e) => err::fatal(err::EXIT_SYS, &[b"unable to read ", dir, e.file(), b": ", e.words()]),
    }
}

/// Marks each row rinit-rc knows with its type and up/down, and adds a
/// row for what has no service directory.
fn add_rc_view(rows: &mut Rows, db: &Db, state: &[u8; MAX_SERVICES]) {
    let is_up = |i: u32| state.get(i as usize) == Some(&1);
    for i in 0..db.len() as u32 {
        let s = db.svc(i);
        let kind = s.kind();
        let longrun = kind == Kind::Longrun;
        let deps = s.deps();
        // A bundle is up when all it contains is.
        let up = if kind == Kind::Bundle { (0..deps.len()).all(|k| is_up(deps.get(k))) } else { is_up(i) };
        let mut name = Line::new();
        match live::log_of(db, i) {
            Some(p) => name.push(db.svc(p).name()).push(b"/log"),
            None => name.push(s.name()),
        };
        // Only a longrun has a service directory, hence a row already.
        let row = match rows.find(name.as_bytes()).filter(|_| longrun) {
            Some(row) => row,
            None => {
                let Some(row) = rows.add(name.as_bytes()) else {
                    continue;
                };
                row.state = if longrun { State::Unsupervised } else { State::NotLongrun };
                row
            }
        };
        row.rc = Rc { kind: Some(kind.name()), up };
    }
}
