#define _GNU_SOURCE
#include "CLoupeSupport.h"

#include <string.h>

static char initial_core[64];
static char selected_core[64];

const char *loupe_blas_initial_core(void) { return initial_core; }
const char *loupe_blas_core(void) { return selected_core; }

#if defined(__linux__) && defined(__x86_64__)
#include <dlfcn.h>
#include <stdlib.h>
#include <strings.h>

typedef char *(*corename_fn)(void);
typedef void (*void_fn)(void);
typedef void (*threads_fn)(int);

static void copy_core(char *destination, corename_fn corename) {
    const char *name = corename();
    strncpy(destination, name ? name : "", 63);
    destination[63] = 0;
}

/* Runs when the program loads, after OpenBLAS's own constructor and before any thread exists:
 * Debian's OpenBLAS 0.3.21 does not know every AVX-512 CPU and may pick its slowest kernels
 * (MEASURED.md), so select SkylakeX here, through its exported gotoblas_dynamic_quit/_init
 * (looked up at run time; absent in other BLAS libraries), and set it to one thread: Loupe splits
 * products itself. Doing this before main keeps setenv and the re-initialisation away from other
 * threads. LOUPE_BLAS_CORETYPE names another kernel set, or `keep` leaves OpenBLAS's choice. */
__attribute__((constructor)) static void loupe_select_blas_kernels(void) {
    corename_fn corename = (corename_fn)dlsym(RTLD_DEFAULT, "openblas_get_corename");
    if (!corename) return;
    copy_core(initial_core, corename);
    const char *requested = getenv("LOUPE_BLAS_CORETYPE");
    const char *wanted = NULL;
    if (requested && *requested) {
        wanted = strcmp(requested, "keep") == 0 ? NULL : requested;
    } else {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) {
            wanted = "SkylakeX";
        }
    }
    void_fn quit = (void_fn)dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void_fn init = (void_fn)dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (wanted && strcasecmp(wanted, initial_core) != 0 && quit && init) {
        quit();
        setenv("OPENBLAS_CORETYPE", wanted, 1);
        init();
    }
    threads_fn set_threads = (threads_fn)dlsym(RTLD_DEFAULT, "openblas_set_num_threads");
    if (set_threads) set_threads(1);
    copy_core(selected_core, corename);
}
#endif
