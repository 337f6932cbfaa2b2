use rinit_tests::*;
use std::time::Duration;

#[test]
fn spawned_program_is_pid_1_and_dies_with_the_sandbox() {
    let mut sb = Sandbox::new();
    let mut p = sb.spawn_pid1(args!["/bin/sh", "-c", "echo pid=$$; exec sleep 30"]);
    wait_until("the shell to print", SOON, || p.output().contains("pid=1"));
    let host = p.pid() as u64;
    assert!(alive(host));
    drop(sb);
    wait_until("the namespace to be gone", SOON, || !alive(host));
    let _ = p.wait_timeout(Duration::from_secs(1));
}
