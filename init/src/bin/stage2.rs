//! rinit-stage2: what pid 1 execs at the end of stage 1 (`-e`): it forks
//! stage 2's runner and becomes the scanner with the tree's environment.
//! The runner waits for the supervision tree, runs `rc.init`, and in a
//! container the main program, whose exit code becomes the container's
//! once stage 3 has run.
#![no_std]
#![no_main]

use base::err;
use base::sys::{self, Args, ArgvBuf, Open, StaticCell};
use rinit_init::envdir::{self, Env, ENV_MAX};
use rinit_init::stage2;

/// The tree's environment and its exec array, in .bss rather than on the
/// stack: a container's may be large (`ENV_MAX`), and the runner, which
/// lives as long as the main program, then holds in memory only the
/// pages its variables fill.
static ENV: StaticCell<Env> = StaticCell::new(Env::new());
static ENVV: StaticCell<ArgvBuf<'static, { ENV_MAX + 1 }>> = StaticCell::new(ArgvBuf::new());

fn main(args: Args) -> ! {
    err::set_prog(b"rinit");
    let mut s = stage2::parse(&args);
    if s.exec {
        // Pid 1 becomes the scanner in there; only the runner comes back.
        stage2::split(&mut s);
    }
    stage2::wait_for_tree(&mut s);
    if !s.container {
        stage2::store_kernel_env(s.basedir);
        if let Ok(fd) = sys::open(c"/dev/null", Open::RDONLY, 0) {
            // dup2 onto 0 from a fresh descriptor cannot fail.
            let _ = sys::dup2(fd.fd(), sys::STDIN);
        }
    }
    let (Some(env), Some(envv)) = (ENV.take(), ENVV.take()) else {
        err::fatal(err::EXIT_SYS, &[b"environment taken twice"])
    };
    envdir::tree_env(env, s.basedir, s.container);
    env.fill(envv);
    stage2::run_rc_init(&s, envv.as_argv());
    if !s.container {
        sys::exit(0);
    }
    let Some(cmd) = s.words.first() else { sys::exit(0) };
    let code = stage2::run_main(cmd, &s, env, envv.as_argv());
    let mut b = rinit_init::Line::new();
    b.push(cmd.to_bytes()).push(b" exited ").u64(code);
    err::info(&[b.as_bytes(), b": shutting the container down"]);
    stage2::shut_down_container(s.basedir, code);
    sys::exit(0)
}

linker::entry!(main);
