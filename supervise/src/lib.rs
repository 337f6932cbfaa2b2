//! Modules shared by the scanner, the supervisor and the control tools.
#![cfg_attr(not(test), no_std)]

// Without the feature, a twin of the same calls that does nothing and
// warns once when a file asks for a cgroup.
#[cfg_attr(not(feature = "cgroups"), path = "cgroup_lean.rs")]
pub mod cgroup;
pub mod deathtally;
pub mod machine;
pub mod notifystate;
// Without the feature (notify-socket, check, timeout-ready,
// timeout-watchdog), a twin that only warns; notification-fd stays.
#[cfg_attr(not(feature = "sd-notify"), path = "readiness_lean.rs")]
pub mod readiness;
pub mod service;
pub mod statustext;
pub mod statusrow;
pub mod statustable;
pub mod scanctl;
pub mod scandir;
