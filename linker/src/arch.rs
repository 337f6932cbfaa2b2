//! The program entry, one per architecture. Each aligns the stack, passes
//! the kernel's initial stack pointer to `start_rust` and never returns.

#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "xor ebp, ebp",
        "mov rdi, rsp",
        "and rsp, -16",
        "call {s}",
        "ud2",
        s = sym super::start_rust,
    )
}

#[cfg(target_arch = "aarch64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "mov x29, xzr",
        "mov x30, xzr",
        "mov x0, sp",
        "and sp, x0, #-16",
        "bl {s}",
        "udf #0",
        s = sym super::start_rust,
    )
}

#[cfg(target_arch = "riscv64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "mv fp, zero",
        "mv ra, zero",
        "mv a0, sp",
        "andi sp, sp, -16",
        "call {s}",
        "unimp",
        s = sym super::start_rust,
    )
}

// ARM mode (armv7-unknown-linux-gnueabihf): r11 is the frame pointer.
#[cfg(target_arch = "arm")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "mov fp, #0",
        "mov lr, #0",
        "mov r0, sp",
        "bic r1, r0, #15",
        "mov sp, r1",
        "bl {s}",
        "udf #0",
        s = sym super::start_rust,
    )
}

// i686 (cdecl): the argument goes on the stack, which must be 16-byte
// aligned at the call.
#[cfg(target_arch = "x86")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        "xor ebp, ebp",
        "mov eax, esp",
        "and esp, -16",
        "sub esp, 12",
        "push eax",
        "call {s}",
        "ud2",
        s = sym super::start_rust,
    )
}

// mips and mipsel (o32): the callee's 16-byte home for $a0-$a3 is left
// above the aligned stack pointer; the binary is static and not PIE, so
// start_rust's address is absolute, and position-independent code finds it
// in $t9 ($25) to compute its $gp.
#[cfg(target_arch = "mips")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
unsafe extern "C" fn _start() -> ! {
    core::arch::naked_asm!(
        ".set noreorder",
        "move $fp, $zero",
        "move $ra, $zero",
        "move $a0, $sp",
        "li $t0, -16",
        "and $sp, $sp, $t0",
        "addiu $sp, $sp, -16",
        "lui $t9, %hi({s})",
        "addiu $t9, $t9, %lo({s})",
        "jalr $t9",
        "nop",
        "teq $zero, $zero",
        ".set reorder",
        s = sym super::start_rust,
    )
}
