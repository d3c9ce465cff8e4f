#define _GNU_SOURCE
#include "agent_shims.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <unistd.h>

int agent_spawn(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                int stdout_fd, int stderr_fd, const char *working_directory) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return rc;
    rc = posix_spawnattr_init(&attributes);
    if (rc != 0) { posix_spawn_file_actions_destroy(&actions); return rc; }

    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    if (!rc) rc = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
    if (!rc) rc = posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
    /* Nothing of the agent's (sockets, state files) leaks into a child. */
    if (!rc) rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (!rc && working_directory) rc = posix_spawn_file_actions_addchdir_np(&actions, working_directory);
    /* A group of its own, so a timeout can end the child and everything it started. */
    if (!rc) rc = posix_spawnattr_setpgroup(&attributes, 0);
    if (!rc) rc = posix_spawnattr_setsigmask(&attributes, &none);
    if (!rc) rc = posix_spawnattr_setsigdefault(&attributes, &all);
    if (!rc) rc = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (!rc) rc = posix_spawn(pid, path, &actions, &attributes, argv, envp);

    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    return rc;
}

int agent_peer_credentials(int fd, uid_t *uid, gid_t *gid, pid_t *pid) {
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) return errno;
    *uid = credentials.uid;
    *gid = credentials.gid;
    *pid = credentials.pid;
    return 0;
}

int agent_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC) == 0 ? 0 : errno;
}

int agent_so_peercred(void) {
    return SO_PEERCRED;
}

#include <sys/syscall.h>
#include <unistd.h>
#include <errno.h>

int agent_ioprio_idle(void) {
    /* IOPRIO_WHO_PROCESS with id 0 is the calling thread; class 3 is IOPRIO_CLASS_IDLE. */
    long rc = syscall(SYS_ioprio_set, 1, 0, 3 << 13);
    return rc == 0 ? 0 : errno;
}

int agent_write_behind(int fd, long long start, long long length, long long settled_start, long long settled_length) {
    /* Start writeback of what was just written, without waiting for it... */
    if (sync_file_range(fd, start, length, SYNC_FILE_RANGE_WRITE) != 0) return errno;
    if (settled_length <= 0) return 0;
    /* ...then wait for the range before it and drop it from the page cache: the disk works while
       the next range is read and hashed, and a backup never holds more than two ranges dirty nor
       pushes the database's pages out of memory with its own. */
    if (sync_file_range(fd, settled_start, settled_length,
                        SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0) return errno;
    return posix_fadvise(fd, settled_start, settled_length, POSIX_FADV_DONTNEED);
}
