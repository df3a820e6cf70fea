/*
 * replayvm Linux guest userland: the C runtime is the kernel's own nolibc (tools/include/nolibc
 * in the linux-source-6.1 tree, used at build time, not copied here) plus the system call
 * wrappers below that nolibc 6.1 lacks or gets wrong on rv32.
 *
 * rv32 Linux only has the 64-bit time system calls and no lseek/poll/select/stat/wait4, but
 * nolibc 6.1 defines inline wrappers for those unconditionally. We give the missing numbers a
 * value the kernel rejects with ENOSYS so the header compiles; nothing here calls them.
 */
#ifndef REPLAYVM_SYS_H
#define REPLAYVM_SYS_H

#define RVM_NO_SYSCALL 0xfff
#define __NR_gettimeofday RVM_NO_SYSCALL
#define __NR_lseek RVM_NO_SYSCALL
#define __NR_poll RVM_NO_SYSCALL
#define __NR_select RVM_NO_SYSCALL
#define __NR_stat RVM_NO_SYSCALL
#define __NR_wait4 RVM_NO_SYSCALL

#include "nolibc.h"

#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>

/* String helpers nolibc 6.1 does not have. */
static inline const char *rvm_strstr(const char *h, const char *n)
{
	unsigned long len = strlen(n);
	for (; *h; h++)
		if (!strncmp(h, n, len))
			return h;
	return 0;
}

static inline void *rvm_memchr(const void *p, int c, unsigned long n)
{
	const unsigned char *s = p;
	for (; n; n--, s++)
		if (*s == (unsigned char)c)
			return (void *)s;
	return 0;
}

/* All wrappers return the raw kernel result: >= 0 on success, -errno on failure. */

struct rvm_timespec64 { long long tv_sec; long long tv_nsec; };

#define RVM_CLOCK_REALTIME 0
#define RVM_CLOCK_MONOTONIC 1

static inline long rvm_clock_gettime(int clk, struct rvm_timespec64 *ts)
{
	return my_syscall2(__NR_clock_gettime64, clk, ts);
}

static inline long rvm_nanosleep_ms(unsigned int ms)
{
	struct rvm_timespec64 ts = { ms / 1000, (long long)(ms % 1000) * 1000000 };
	return my_syscall4(__NR_clock_nanosleep_time64, RVM_CLOCK_MONOTONIC, 0, &ts, 0);
}

/* 64-bit file position: rv32 has _llseek (offset split in two halves, result by pointer). */
static inline long rvm_seek(int fd, unsigned long long off)
{
	long long result;
	return my_syscall5(__NR_llseek, fd, (unsigned long)(off >> 32), (unsigned long)off, &result, 0);
}

static inline long rvm_sync(void) { return my_syscall0(__NR_sync); }

struct rvm_utsname { char sysname[65], nodename[65], release[65], version[65], machine[65], domain[65]; };

static inline long rvm_uname(struct rvm_utsname *u) { return my_syscall1(__NR_uname, u); }

static inline long rvm_syslog(int type, char *buf, int len)
{
	return my_syscall3(__NR_syslog, type, buf, len);
}

static inline long rvm_sched_getaffinity(int pid, unsigned int size, void *mask)
{
	return my_syscall3(__NR_sched_getaffinity, pid, size, mask);
}

struct rvm_pollfd { int fd; short events; short revents; };
#define RVM_POLLIN 1

/* Waits up to `ms` milliseconds for input on the descriptors (ppoll with a 64-bit timespec). */
static inline long rvm_poll(struct rvm_pollfd *fds, unsigned int n, unsigned int ms)
{
	struct rvm_timespec64 ts = { ms / 1000, (long long)(ms % 1000) * 1000000 };
	return my_syscall5(__NR_ppoll_time64, fds, n, &ts, 0, 8);
}

/* Sockets. */
#define RVM_AF_INET 2
#define RVM_AF_PACKET 17
#define RVM_SOCK_STREAM 1
#define RVM_SOCK_DGRAM 2
#define RVM_SOCK_RAW 3
#define RVM_SOL_SOCKET 1
#define RVM_SO_REUSEADDR 2
#define RVM_SO_BROADCAST 6
#define RVM_SO_BINDTODEVICE 25

static inline long rvm_socket(int dom, int type, int proto) { return my_syscall3(__NR_socket, dom, type, proto); }
static inline long rvm_bind(int fd, const void *sa, int len) { return my_syscall3(__NR_bind, fd, sa, len); }
static inline long rvm_listen(int fd, int backlog) { return my_syscall2(__NR_listen, fd, backlog); }
static inline long rvm_accept(int fd, void *sa, int *len) { return my_syscall3(__NR_accept, fd, sa, len); }
static inline long rvm_setsockopt(int fd, int level, int name, const void *val, int len)
{
	return my_syscall5(__NR_setsockopt, fd, level, name, val, len);
}
static inline long rvm_sendto(int fd, const void *buf, unsigned int len, int flags, const void *sa, int salen)
{
	return my_syscall6(__NR_sendto, fd, buf, len, flags, sa, salen);
}
static inline long rvm_recvfrom(int fd, void *buf, unsigned int len, int flags, void *sa, int *salen)
{
	return my_syscall6(__NR_recvfrom, fd, buf, len, flags, sa, salen);
}

/* struct sockaddr and the ifreq/rtentry layouts for a 32-bit kernel (uapi needs libc's sockaddr). */
struct rvm_sockaddr { unsigned short sa_family; char sa_data[14]; };

struct rvm_ifreq {
	char name[16];
	union {
		struct rvm_sockaddr addr;
		struct sockaddr_in in;
		short flags;
		int ifindex;
		char pad[16];
	} u;
};

struct rvm_rtentry {
	unsigned long pad1;
	struct sockaddr_in dst, gateway, genmask;
	unsigned short flags;
	short pad2;
	unsigned long pad3;
	void *pad4;
	short metric;
	char *dev;
	unsigned long mtu, window;
	unsigned short irtt;
};

#define RVM_IFF_UP 0x1
#define RVM_RTF_UP 0x1
#define RVM_RTF_GATEWAY 0x2

/* Block device ioctls (BLKGETSIZE64, BLKFLSBUF) come from <linux/fs.h>, which nolibc includes. */

/* nolibc 6.1 defines the common open flags but not O_DIRECT (asm-generic/fcntl.h's value). */
#ifndef O_DIRECT
#define O_DIRECT 00040000
#endif

#endif
