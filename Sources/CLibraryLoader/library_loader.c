#include "library_loader.h"

#include <dlfcn.h>
#include <openssl/opensslv.h>
#include <stdio.h>
#include <unistd.h>

/* The sonames the package depends on (packaging/debian/control.in: libssl3, libsystemd0). */
#if OPENSSL_VERSION_MAJOR != 3
#error "built against an OpenSSL other than 3.x: the soname below would be wrong"
#endif
static const char *const sonames[] = {
    [AGENT_LIBSSL] = "libssl.so.3",
    [AGENT_LIBCRYPTO] = "libcrypto.so.3",
    [AGENT_LIBSYSTEMD] = "libsystemd.so.0",
};
static void *handles[sizeof sonames / sizeof sonames[0]];

static void fail(const char *what, const char *library) {
    const char *reason = dlerror();
    fprintf(stderr, "cassandra-agent: cannot load %s %s: %s\n", what, library, reason != NULL ? reason : "not found");
    _exit(127);
}

void *agent_library_load(enum agent_library library, const char *name, void **cache) {
    /* Two threads may both get here first: dlopen counts references and dlsym
       returns the same address, so the race only costs a second lookup. */
    void *handle = __atomic_load_n(&handles[library], __ATOMIC_ACQUIRE);
    if (handle == NULL) {
        /* RTLD_LAZY: the library's own calls are bound when first made, as at start-up before. */
        handle = dlopen(sonames[library], RTLD_LAZY | RTLD_LOCAL);
        if (handle == NULL) fail("the library", sonames[library]);
        __atomic_store_n(&handles[library], handle, __ATOMIC_RELEASE);
    }
    dlerror();
    void *function = dlsym(handle, name);
    if (function == NULL) fail(name, sonames[library]);
    __atomic_store_n(cache, function, __ATOMIC_RELEASE);
    return function;
}
