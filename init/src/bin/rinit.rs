//! rinit: stage 1, what the kernel (or a container runtime) runs as pid 1.
//! It prepares the machine just enough for the supervision tree (the
//! kernel's file systems, /run with the run-image, the logger's FIFO), then
//! execs `rinit-stage2 -e`, which starts stage 2 (`rc.init`, and in a
//! container the main program) in a child and makes pid 1 the scanner with
//! the tree's environment. The scanner stays pid 1 until the shutdown
//! daemon asks it to hand over to stage 3.
//!
//! Boot mode (pid 1 of the machine's first pid namespace): mounts /proc,
//! /sys, devtmpfs (if the basedir says so), a tmpfs on /run. Container mode
//! (`-C`, `<basedir>/conf/container`, or any other pid namespace): no
//! kernel mounts; the words after the options are the main program.
//!
//! Zero configuration (a container with no basedir, see `container`):
//! rinit stays pid 1 (or a subreaper) and runs CMD, the services it finds,
//! and the end, itself.
//!
//! With a basedir, in either mode, a cgroup v2 directory is delegated to
//! the scan directory when there is one: a cgroup per service.
#![no_std]
#![no_main]

use base::err;
use base::path::PathBuf;
use base::sys::{self, Args};
use rinit_init::{cgroups, conf, container, mounts, stage1};

fn main(args: Args) -> ! {
    err::set_prog(b"rinit");
    let t0 = sys::now_mono_ns();
    if container::prefix::wanted(&args) {
        // A service's logger in a container run with -p.
        container::prefix::run()
    }
    let opts = stage1::parse_options(&args);
    if container::wanted(&opts) {
        // Zero configuration: no basedir; rinit stays the container's init.
        container::run(args)
    }
    if !stage1::BASEDIR_MODE {
        stage1::lacking(&opts)
    }
    if sys::getpid() != 1 {
        err::fatal(
            err::EXIT_USAGE,
            &[b"not pid 1: run rinit as the kernel's init, a container's entrypoint, or under unshare --pid --fork"],
        );
    }
    let basedir = opts.basedir;
    stage1::default_signals();
    // Its own session: a Ctrl-C meant for whoever started a container must
    // not reach the supervisors (pid 1 of a machine already leads one).
    // EPERM: already a session leader, which is what is wanted.
    let _ = sys::setsid();
    sys::umask(conf::umask(basedir));
    let container = stage1::container_mode(&opts);
    stage1::announce(t0, container);
    if !basedir.starts_with(b"/") {
        // Every tool finds it through a symlink in /run: it must not depend on a cwd.
        stage1::die(container, &[b"the basedir must be an absolute path: ", basedir], sys::errno::EINVAL);
    }
    let base = match PathBuf::join(basedir, &[]) {
        Ok(p) => p,
        Err(e) => stage1::die(container, &[b"unable to use the basedir ", basedir], e),
    };

    if !container {
        let dev = conf::get(basedir, conf::DEVTMPFS);
        mounts::mount_kernel_fs(dev.as_ref().map(|v| v.as_bytes()));
        stage1::ensure_console();
    }
    stage1::prepare_live(&base, container);
    cgroups::delegate(basedir, container);
    // Time 0 of the boot's timeline (`rinit-rc timeline`).
    if let Err(e) = base::bootclock::record(t0) {
        err::warn_unable(&[b"write ", base::bootclock::FILE.to_bytes()], e);
    }
    let mut path = None;
    let search = stage1::tree_path(basedir, &mut path);

    // In a container the tree's output is the container's: the runtime collects it.
    let logger = !container && stage1::redirect_to_catchall();
    // The environment, stage 2 and the scanner: rinit-stage2 -e, still pid 1.
    stage1::exec_stage2(base.as_cstr(), container, logger, args.tail(opts.rest), search)
}

linker::entry!(no_s6_name, main, rinit_init::stage1::last_resort);
