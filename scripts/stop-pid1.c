/* stop-pid1: a test tool, never installed. Stops process 1 the way a hang
 * would (it runs no more code, so it pets no watchdog) without changing a
 * line of rinit: it seizes pid 1 with ptrace and interrupts it, then stays,
 * since pid 1 would run again as soon as its tracer exits. The qemu test
 * compiles it (gcc -static) into its initramfs to check that a stuck pid 1
 * resets the machine through the hardware watchdog. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

int main(void)
{
    if (ptrace(PTRACE_SEIZE, 1, 0, 0) < 0 || ptrace(PTRACE_INTERRUPT, 1, 0, 0) < 0) {
        fprintf(stderr, "stop-pid1: unable to stop process 1: %s\n", strerror(errno));
        return 111;
    }
    printf("stop-pid1: process 1 is stopped\n");
    fflush(stdout);
    for (;;)
        pause();
}
