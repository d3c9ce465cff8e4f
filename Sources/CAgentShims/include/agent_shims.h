#ifndef AGENT_SHIMS_H
#define AGENT_SHIMS_H

#include <sys/types.h>

/// Spawns `path` with `argv`/`envp` in a new process group (its pgid = its pid),
/// stdin from /dev/null, stdout/stderr onto the given descriptors, every other
/// descriptor closed, signal mask and dispositions reset. Returns 0 or an errno.
int agent_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                int stdout_fd, int stderr_fd, const char *working_directory);

/// pipe2(fds, O_CLOEXEC): both ends closed in every child.
int agent_pipe_cloexec(int fds[2]);

/// The uid, gid and pid of the process at the other end of a unix socket (SO_PEERCRED).
int agent_peer_credentials(int fd, uid_t *uid, gid_t *gid, pid_t *pid);

/// SO_PEERCRED's value (hidden behind _GNU_SOURCE in the headers Swift sees).
int agent_so_peercred(void);

/// Puts the calling thread in the idle I/O scheduling class (ioprio_set), so its
/// reads wait for the database's. Returns 0 or an errno.
int agent_ioprio_idle(void);

/// Write-behind for a file being written in sequence: starts writeback of
/// [start, start+length) and, when settled_length > 0, waits for
/// [settled_start, settled_start+settled_length) to reach the disk and drops it
/// from the page cache. 0, or the errno (a filesystem without sync_file_range).
int agent_write_behind(int fd, long long start, long long length, long long settled_start, long long settled_length);

#endif
