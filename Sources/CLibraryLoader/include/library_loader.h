#ifndef AGENT_LIBRARY_LOADER_H
#define AGENT_LIBRARY_LOADER_H

/* libssl, libcrypto and libsystemd are loaded when the agent first calls one of
   their functions, not by the dynamic linker at every start (see
   tools/generate-library-forwarders.py for why and forwarders.c for the calls). */

enum agent_library { AGENT_LIBSSL, AGENT_LIBCRYPTO, AGENT_LIBSYSTEMD };

/// Loads `library` if it is not yet and returns its function `name`, stored in
/// `*cache`. A library or function that is missing ends the process with exit
/// code 127 and a message naming it, as the dynamic linker would have at start.
void *agent_library_load(enum agent_library library, const char *name, void **cache);

static inline void *agent_library_function(enum agent_library library, const char *name, void **cache) {
    void *function = __atomic_load_n(cache, __ATOMIC_ACQUIRE);
    return function != 0 ? function : agent_library_load(library, name, cache);
}

#endif
