// Linux APIs that Glibc's Swift module does not export: epoll, eventfd, TCP options.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

// accept4 is a GNU extension that Glibc's module hides without _GNU_SOURCE.
extern int accept4(int fd, struct sockaddr *addr, socklen_t *length, int flags);
static inline int hub_accept4(int fd, struct sockaddr *addr, socklen_t *length, int flags) {
    return accept4(fd, addr, length, flags);
}
