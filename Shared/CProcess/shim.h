// Linux process controls Swift cannot call directly: prctl(2) is variadic.
#include <sys/prctl.h>

// Asks the kernel to send `signal` to this process when the thread that started it exits.
static inline int comcl_set_parent_death_signal(int signal) {
  return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}
