/*
 * /init of the replayvm Linux guest: PID 1 and a tiny command shell on the console.
 *
 * It mounts proc, sysfs and devtmpfs, prints a banner and then reads one command per line,
 * printing PROMPT before each. Every command reports failures as "NAME: error TEXT (errno N)"
 * and returns to the prompt; PID 1 never exits. `help` lists the commands.
 */
#include "sys.h"

#define PROMPT "# "
#define BANNER "replayvm Linux guest"
#define DISK "/dev/vda"
#define IFNAME "eth0"
#define SECTOR 512
#define BLOCK4K 4096

/* ---------- output: a small buffered printf (nolibc's has no field widths) ---------- */

static char obuf[2048];
static unsigned int olen;

static void write_all(int fd, const char *p, unsigned long n)
{
	while (n > 0) {
		long r = sys_write(fd, p, n);
		if (r == -EINTR)
			continue;
		if (r <= 0)
			return;
		p += r;
		n -= r;
	}
}

static void oflush(void)
{
	write_all(1, obuf, olen);
	olen = 0;
}

static void oputc(char c)
{
	if (olen == sizeof(obuf))
		oflush();
	obuf[olen++] = c;
}

static void oputs(const char *s)
{
	while (*s)
		oputc(*s++);
}

static void oput_num(unsigned long long v, unsigned int base, int neg, int width, char pad, int left)
{
	char tmp[24];
	int n = 0, len;

	do {
		unsigned int d = (unsigned int)(v % base);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	len = n + (neg ? 1 : 0);
	if (neg && pad == '0')
		oputc('-');
	if (!left)
		for (; len < width; len++)
			oputc(pad);
	if (neg && pad != '0')
		oputc('-');
	while (n)
		oputc(tmp[--n]);
	if (left)
		for (; len < width; len++)
			oputc(' ');
}

/* %[-][0][width][l|ll](d|u|x|s|c|%) */
static void oprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	for (; *fmt; fmt++) {
		int width = 0, lng = 0, left = 0;
		char pad = ' ';

		if (*fmt != '%') {
			oputc(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '-') {
			left = 1;
			fmt++;
		}
		if (*fmt == '0') {
			pad = '0';
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd': {
			long long v = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
			oput_num(v < 0 ? -(unsigned long long)v : (unsigned long long)v, 10, v < 0, width, pad, left);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = lng >= 2 ? va_arg(ap, unsigned long long)
				: lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			oput_num(v, *fmt == 'x' ? 16 : 10, 0, width, pad, left);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			int len = (int)strlen(s);
			if (!left)
				for (; len < width; len++)
					oputc(' ');
			oputs(s);
			if (left)
				for (; len < width; len++)
					oputc(' ');
			break;
		}
		case 'c':
			oputc((char)va_arg(ap, int));
			break;
		case '%':
			oputc('%');
			break;
		default:
			oputc('%');
			if (!*fmt)
				fmt--;
			else
				oputc(*fmt);
		}
	}
	va_end(ap);
}

/* ---------- errors ---------- */

static const struct { int no; const char *name; const char *text; } errtab[] = {
	{ EPERM, "EPERM", "operation not permitted" },
	{ ENOENT, "ENOENT", "no such file or directory" },
	{ EINTR, "EINTR", "interrupted" },
	{ EIO, "EIO", "input/output error" },
	{ ENXIO, "ENXIO", "no such device or address" },
	{ EBADF, "EBADF", "bad file descriptor" },
	{ EAGAIN, "EAGAIN", "try again" },
	{ ENOMEM, "ENOMEM", "out of memory" },
	{ EACCES, "EACCES", "permission denied" },
	{ EFAULT, "EFAULT", "bad address" },
	{ EBUSY, "EBUSY", "device or resource busy" },
	{ EEXIST, "EEXIST", "file exists" },
	{ ENODEV, "ENODEV", "no such device" },
	{ ENOTDIR, "ENOTDIR", "not a directory" },
	{ EISDIR, "EISDIR", "is a directory" },
	{ EINVAL, "EINVAL", "invalid argument" },
	{ ENOTTY, "ENOTTY", "inappropriate ioctl for device" },
	{ EFBIG, "EFBIG", "file too large" },
	{ ENOSPC, "ENOSPC", "no space left on device" },
	{ EROFS, "EROFS", "read-only file system" },
	{ ENOSYS, "ENOSYS", "function not implemented" },
	{ EADDRINUSE, "EADDRINUSE", "address already in use" },
	{ EADDRNOTAVAIL, "EADDRNOTAVAIL", "cannot assign requested address" },
	{ ENETDOWN, "ENETDOWN", "network is down" },
	{ ENETUNREACH, "ENETUNREACH", "network is unreachable" },
	{ ETIMEDOUT, "ETIMEDOUT", "timed out" },
	{ ECONNREFUSED, "ECONNREFUSED", "connection refused" },
	{ EHOSTUNREACH, "EHOSTUNREACH", "no route to host" },
	{ EAFNOSUPPORT, "EAFNOSUPPORT", "address family not supported" },
	{ EPROTONOSUPPORT, "EPROTONOSUPPORT", "protocol not supported" },
};

/* Prints "WHAT: error NAME, TEXT (errno N)"; `err` is a negative kernel return value. */
static void perr(const char *what, long err)
{
	unsigned int i;
	int no = (int)-err;

	for (i = 0; i < sizeof(errtab) / sizeof(errtab[0]); i++)
		if (errtab[i].no == no) {
			oprintf("%s: error %s, %s (errno %d)\n", what, errtab[i].name, errtab[i].text, no);
			return;
		}
	oprintf("%s: error (errno %d)\n", what, no);
}

/* ---------- small helpers ---------- */

static int parse_uint(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;
	unsigned int base = 10;

	if (!s || !*s)
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (!*s)
			return -1;
	}
	for (; *s; s++) {
		unsigned int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

static int parse_ip(const char *s, unsigned int *out)
{
	unsigned int v = 0, part, i;

	for (i = 0; i < 4; i++) {
		if (*s < '0' || *s > '9')
			return -1;
		part = 0;
		while (*s >= '0' && *s <= '9') {
			part = part * 10 + (*s++ - '0');
			if (part > 255)
				return -1;
		}
		v = (v << 8) | part;
		if (i < 3 && *s++ != '.')
			return -1;
	}
	if (*s)
		return -1;
	*out = v; /* host order */
	return 0;
}

static const char *ip_str(unsigned int a)
{
	static char buf[4][16];
	static int which;
	char *b = buf[which++ & 3], *p = b;
	int i;

	for (i = 3; i >= 0; i--) {
		unsigned int part = (a >> (i * 8)) & 0xff;
		if (part >= 100)
			*p++ = (char)('0' + part / 100);
		if (part >= 10)
			*p++ = (char)('0' + part / 10 % 10);
		*p++ = (char)('0' + part % 10);
		if (i)
			*p++ = '.';
	}
	*p = 0;
	return b;
}

static unsigned short be16(unsigned short v) { return (unsigned short)((v >> 8) | (v << 8)); }
static unsigned int be32(unsigned int v)
{
	return (v >> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24);
}

static long long now_ms(void)
{
	struct rvm_timespec64 ts;
	rvm_clock_gettime(RVM_CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads a whole (small) file into buf, NUL-terminated; returns the length or -errno. */
static long read_file(const char *path, char *buf, unsigned long size)
{
	long fd = sys_open(path, O_RDONLY, 0), n, total = 0;

	if (fd < 0)
		return fd;
	while (total < (long)size - 1 && (n = sys_read(fd, buf + total, size - 1 - total)) > 0)
		total += n;
	sys_close(fd);
	buf[total] = 0;
	return n < 0 ? n : total;
}

static long read_full(int fd, void *buf, unsigned long n)
{
	unsigned long done = 0;
	while (done < n) {
		long r = sys_read(fd, (char *)buf + done, n - done);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

static long write_full(int fd, const void *buf, unsigned long n)
{
	unsigned long done = 0;
	while (done < n) {
		long r = sys_write(fd, (const char *)buf + done, n - done);
		if (r == -EINTR)
			continue;
		if (r < 0)
			return r;
		done += r;
	}
	return done;
}

/* ---------- the command line ---------- */

#define MAXARGS 16
static char line[512];       /* the edited input line */
static char argbuf[512];     /* tokens, NUL-separated */
static int argc;
static char *argv[MAXARGS];
static unsigned int argoff[MAXARGS]; /* where each token starts in `line` */

/* The raw text of the line from argument i on (keeps inner spaces), or "" if absent. */
static const char *rest_from(int i)
{
	return i < argc ? line + argoff[i] : "";
}

static void tokenize(void)
{
	unsigned int i = 0, o = 0;

	argc = 0;
	while (line[i]) {
		while (line[i] == ' ' || line[i] == '\t')
			i++;
		if (!line[i] || argc == MAXARGS)
			break;
		argoff[argc] = i;
		argv[argc++] = argbuf + o;
		while (line[i] && line[i] != ' ' && line[i] != '\t')
			argbuf[o++] = line[i++];
		argbuf[o++] = 0;
	}
}

/*
 * Reads one line from the console. The tty is in canonical mode (it echoes and handles its
 * erase character); backspace or DEL bytes that still arrive are applied here as well.
 * Returns 0 at end of input.
 */
static char ibuf[256];
static unsigned int ipos, ilen;

static int read_line(void)
{
	unsigned int n = 0;
	int last_cr = 0;

	for (;;) {
		char c;
		if (ipos == ilen) {
			long r = sys_read(0, ibuf, sizeof(ibuf));
			if (r == -EINTR)
				continue;
			if (r <= 0)
				return 0;
			ipos = 0;
			ilen = (unsigned int)r;
		}
		c = ibuf[ipos++];
		if (c == '\n' && last_cr) {
			last_cr = 0;
			continue;
		}
		last_cr = c == '\r';
		if (c == '\n' || c == '\r')
			break;
		if (c == 8 || c == 127) {
			if (n)
				n--;
			continue;
		}
		if ((unsigned char)c < ' ' && c != '\t')
			continue;
		if (n < sizeof(line) - 1)
			line[n++] = c;
	}
	line[n] = 0;
	return 1;
}

/* ---------- commands ---------- */

static void cmd_help(void)
{
	oputs("commands:\n"
	      "  help                     this list\n"
	      "  echo TEXT                print TEXT\n"
	      "  cat FILE                 print a file\n"
	      "  ls [DIR]                 list a directory (default /)\n"
	      "  hexdump FILE [N [OFF]]   hex dump N bytes (default 256) from offset OFF\n"
	      "  write FILE TEXT          create/truncate FILE and write TEXT and a newline\n"
	      "  date                     wall-clock time (UTC)\n"
	      "  uptime                   seconds since boot\n"
	      "  free                     memory summary\n"
	      "  dmesg                    kernel log\n"
	      "  uname                    kernel name and version\n"
	      "  nproc | cpus             online harts\n"
	      "  sleep SECONDS            wait\n"
	      "  sync                     flush file systems and block devices\n"
	      "  disk [DEV]               the disk of the disk commands (default " DISK ")\n"
	      "  disktest [SECTOR [N]]    write, flush, read back and compare N sectors of the disk\n"
	      "  diskbench [MB [rand]]    sequential (or random 4 KiB) write then read throughput of the disk\n"
	      "  diskfill SECTOR N SEED   write N sectors of SEED's pattern (see guest/README.md), fsync\n"
	      "  diskcheck SECTOR N SEED  read N sectors back and compare with SEED's pattern\n"
	      "  disksum SECTOR N         FNV-1a checksum of N sectors\n"
	      "  diskwrite SECTOR TEXT    write TEXT (NUL padded) into one sector of the disk\n"
	      "  diskread SECTOR          print one sector of the disk as text\n"
	      "  random [N]               N bytes (default 16) from /dev/hwrng in hex\n"
	      "  net                      bring up " IFNAME " by DHCP and ping the gateway\n"
	      "  ping ADDR [COUNT]        ICMP echo (default 3)\n"
	      "  listen PORT              accept one TCP connection and echo one line back\n"
	      "  poweroff | reboot        sync and power off / restart\n");
}

static void cmd_echo(void)
{
	oprintf("%s\n", rest_from(1));
}

static void cmd_cat(void)
{
	char buf[512];
	long fd, n;

	if (argc < 2) {
		oputs("usage: cat FILE\n");
		return;
	}
	fd = sys_open(argv[1], O_RDONLY, 0);
	if (fd < 0) {
		perr(argv[1], fd);
		return;
	}
	oflush();
	while ((n = sys_read(fd, buf, sizeof(buf))) > 0)
		write_all(1, buf, n);
	if (n < 0)
		perr(argv[1], n);
	sys_close(fd);
}

#define LS_MAX 256
static char ls_pool[8192];
static char *ls_names[LS_MAX];

static void cmd_ls(void)
{
	const char *dir = argc >= 2 ? argv[1] : "/";
	char buf[1024];
	unsigned int pool = 0, count = 0, i, j, col = 0;
	long fd, n;

	fd = sys_open(dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		perr(dir, fd);
		return;
	}
	while ((n = sys_getdents64(fd, (void *)buf, sizeof(buf))) > 0) {
		long off = 0;
		while (off < n) {
			struct linux_dirent64 *d = (void *)(buf + off);
			unsigned int len = strlen(d->d_name);
			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (count == LS_MAX || pool + len + 2 > sizeof(ls_pool))
				continue;
			ls_names[count++] = ls_pool + pool;
			memcpy(ls_pool + pool, d->d_name, len);
			pool += len;
			if (d->d_type == 4 /* DT_DIR */)
				ls_pool[pool++] = '/';
			ls_pool[pool++] = 0;
		}
	}
	if (n < 0)
		perr(dir, n);
	sys_close(fd);
	for (i = 1; i < count; i++) /* insertion sort by name */
		for (j = i; j > 0 && strcmp(ls_names[j - 1], ls_names[j]) > 0; j--) {
			char *t = ls_names[j];
			ls_names[j] = ls_names[j - 1];
			ls_names[j - 1] = t;
		}
	for (i = 0; i < count; i++) {
		unsigned int len = strlen(ls_names[i]);
		if (col && col + 2 + len > 78) {
			oputc('\n');
			col = 0;
		}
		if (col) {
			oputs("  ");
			col += 2;
		}
		oputs(ls_names[i]);
		col += len;
	}
	if (col)
		oputc('\n');
}

static void cmd_hexdump(void)
{
	unsigned long long n = 256, off = 0;
	unsigned char buf[4096];
	long fd, got, i;

	if (argc < 2 || (argc >= 3 && parse_uint(argv[2], &n)) || (argc >= 4 && parse_uint(argv[3], &off))) {
		oputs("usage: hexdump FILE [N [OFFSET]]\n");
		return;
	}
	if (n > sizeof(buf))
		n = sizeof(buf);
	fd = sys_open(argv[1], O_RDONLY, 0);
	if (fd < 0) {
		perr(argv[1], fd);
		return;
	}
	if (off) {
		long r = rvm_seek(fd, off);
		if (r < 0) {
			perr("seek", r);
			sys_close(fd);
			return;
		}
	}
	got = read_full(fd, buf, n);
	sys_close(fd);
	if (got < 0) {
		perr(argv[1], got);
		return;
	}
	for (i = 0; i < got; i += 16) {
		long j;
		oprintf("%08llx ", off + i);
		for (j = 0; j < 16; j++) {
			if (i + j < got)
				oprintf(" %02x", buf[i + j]);
			else
				oputs("   ");
		}
		oputs("  |");
		for (j = 0; j < 16 && i + j < got; j++)
			oputc(buf[i + j] >= 32 && buf[i + j] < 127 ? buf[i + j] : '.');
		oputs("|\n");
	}
	oprintf("%ld bytes\n", got);
}

static void cmd_write(void)
{
	const char *text = rest_from(2);
	unsigned int len = strlen(text);
	long fd, r;

	if (argc < 2) {
		oputs("usage: write FILE TEXT\n");
		return;
	}
	fd = sys_open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0) {
		perr(argv[1], fd);
		return;
	}
	r = write_full(fd, text, len);
	if (r >= 0)
		r = write_full(fd, "\n", 1);
	sys_close(fd);
	if (r < 0)
		perr(argv[1], r);
	else
		oprintf("wrote %u bytes to %s\n", len + 1, argv[1]);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(long long z, int *y, int *m, int *d)
{
	long long era, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	yoe = z - era * 146097;
	yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
	doy = z - era * 146097 - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void cmd_date(void)
{
	struct rvm_timespec64 ts;
	long long days, secs;
	int y, mo, d;
	long r = rvm_clock_gettime(RVM_CLOCK_REALTIME, &ts);

	if (r < 0) {
		perr("clock_gettime", r);
		return;
	}
	days = ts.tv_sec / 86400;
	secs = ts.tv_sec % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &y, &mo, &d);
	oprintf("%04d-%02d-%02d %02d:%02d:%02d UTC\n", y, mo, d, (int)(secs / 3600), (int)(secs / 60 % 60),
		(int)(secs % 60));
}

static void cmd_uptime(void)
{
	char buf[128], *sp;
	long r = read_file("/proc/uptime", buf, sizeof(buf));

	if (r < 0) {
		perr("/proc/uptime", r);
		return;
	}
	sp = strchr(buf, ' ');
	if (sp)
		*sp = 0;
	oprintf("up %s s\n", buf);
}

static void cmd_free(void)
{
	static char buf[4096];
	static const char *const keys[] = { "MemTotal:", "MemFree:", "MemAvailable:", "Buffers:", "Cached:" };
	char *p;
	long r = read_file("/proc/meminfo", buf, sizeof(buf));
	unsigned int k;

	if (r < 0) {
		perr("/proc/meminfo", r);
		return;
	}
	for (p = buf; *p;) {
		char *nl = strchr(p, '\n');
		if (nl)
			*nl = 0;
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strncmp(p, keys[k], strlen(keys[k])))
				oprintf("%s\n", p);
		if (!nl)
			break;
		p = nl + 1;
	}
}

static char logbuf[1 << 16];

static void cmd_dmesg(void)
{
	long n = rvm_syslog(3 /* SYSLOG_ACTION_READ_ALL */, logbuf, sizeof(logbuf));

	if (n < 0) {
		perr("syslog", n);
		return;
	}
	oflush();
	write_all(1, logbuf, n);
	if (n && logbuf[n - 1] != '\n')
		oputc('\n');
}

static void cmd_uname(void)
{
	struct rvm_utsname u;
	long r = rvm_uname(&u);

	if (r < 0)
		perr("uname", r);
	else
		oprintf("%s %s %s %s %s\n", u.sysname, u.nodename, u.release, u.version, u.machine);
}

static void cmd_nproc(void)
{
	static char buf[8192];
	unsigned int mask[8], i, affinity = 0, listed = 0;
	char online[64] = "?";
	long r;
	const char *p;

	memset(mask, 0, sizeof(mask));
	r = rvm_sched_getaffinity(0, sizeof(mask), mask);
	if (r > 0)
		for (i = 0; i < (unsigned long)r * 8 && i < sizeof(mask) * 8; i++)
			affinity += (mask[i / 32] >> (i % 32)) & 1;
	r = read_file("/proc/cpuinfo", buf, sizeof(buf));
	if (r < 0) {
		perr("/proc/cpuinfo", r);
		return;
	}
	for (p = buf; (p = rvm_strstr(p, "processor")); p += 9)
		if (p == buf || p[-1] == '\n')
			listed++;
	if (read_file("/sys/devices/system/cpu/online", online, sizeof(online)) > 0) {
		char *nl = strchr(online, '\n');
		if (nl)
			*nl = 0;
	}
	oprintf("harts: %u (online %s, affinity %u)\n", listed, online, affinity);
}

static void cmd_sleep(void)
{
	unsigned long long s;

	if (argc < 2 || parse_uint(argv[1], &s) || s > 3600) {
		oputs("usage: sleep SECONDS\n");
		return;
	}
	rvm_nanosleep_ms((unsigned int)s * 1000);
}

static void cmd_sync(void)
{
	rvm_sync();
	oputs("synced\n");
}

/* The block device of the disk commands (`disk DEV` changes it). */
static char disk_dev[64] = DISK;

/* Opens the disk (O_RDWR | flags) and checks that sectors [first, first + count) exist;
 * returns the fd. */
static long disk_open(unsigned long long first, unsigned long long count, int quiet, int flags)
{
	unsigned long long size = 0;
	long fd = sys_open(disk_dev, O_RDWR | flags, 0), r;

	if (fd < 0) {
		perr(disk_dev, fd);
		return fd;
	}
	r = sys_ioctl(fd, BLKGETSIZE64, &size);
	if (r < 0) {
		perr("BLKGETSIZE64", r);
		sys_close(fd);
		return r;
	}
	if (!quiet)
		oprintf("disk: %s, %llu sectors\n", disk_dev, size / SECTOR);
	if ((first + count) * SECTOR > size) {
		oprintf("disk: sectors %llu..%llu are beyond the end (%llu sectors)\n", first, first + count - 1,
			size / SECTOR);
		sys_close(fd);
		return -EINVAL;
	}
	return fd;
}

/* disk [DEV]: makes DEV the disk of the disk commands if it opens as a block device; prints the
 * disk and its size. */
static void cmd_disk(void)
{
	char old[sizeof(disk_dev)];
	long fd;

	if (argc > 2 || (argc == 2 && strlen(argv[1]) >= sizeof(disk_dev))) {
		oputs("usage: disk [DEV]\n");
		return;
	}
	strcpy(old, disk_dev);
	if (argc == 2)
		strcpy(disk_dev, argv[1]);
	fd = disk_open(0, 0, 0, 0);
	if (fd < 0)
		strcpy(disk_dev, old);
	else
		sys_close(fd);
}

static unsigned char diskbuf[32 * SECTOR] __attribute__((aligned(4096))), diskcmp[32 * SECTOR];

static void cmd_disktest(void)
{
	unsigned long long first = 64, count = 16;
	unsigned int seed, i, len;
	struct rvm_timespec64 ts;
	long fd, r;

	if ((argc >= 2 && parse_uint(argv[1], &first)) || (argc >= 3 && parse_uint(argv[2], &count)) || !count ||
	    count > sizeof(diskbuf) / SECTOR) {
		oputs("usage: disktest [SECTOR [N<=32]]\n");
		return;
	}
	len = (unsigned int)count * SECTOR;
	fd = disk_open(first, count, 0, 0);
	if (fd < 0)
		return;
	/* A fresh pattern each run, so data left by an earlier run cannot pass for this one. */
	rvm_clock_gettime(RVM_CLOCK_REALTIME, &ts);
	seed = (unsigned int)ts.tv_sec * 2654435761u ^ (unsigned int)ts.tv_nsec;
	for (i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		diskbuf[i] = (unsigned char)(seed >> 16);
	}
	r = rvm_seek(fd, first * SECTOR);
	if (r >= 0)
		r = write_full(fd, diskbuf, len);
	if (r < 0) {
		perr("disktest: write", r);
		goto out;
	}
	r = sys_fsync(fd);
	if (r < 0) {
		perr("disktest: fsync", r);
		goto out;
	}
	oprintf("disktest: wrote %u bytes at sector %llu\n", len, first);
	/* Drop the page cache of the device so the read really goes to the disk. */
	r = sys_ioctl(fd, BLKFLSBUF, 0);
	if (r < 0)
		perr("disktest: BLKFLSBUF", r);
	memset(diskcmp, 0, len);
	r = rvm_seek(fd, first * SECTOR);
	if (r >= 0)
		r = read_full(fd, diskcmp, len);
	if (r < 0) {
		perr("disktest: read", r);
		goto out;
	}
	oprintf("disktest: read %ld bytes\n", r);
	for (i = 0; i < len; i++)
		if (diskcmp[i] != diskbuf[i])
			break;
	if (r == (long)len && i == len)
		oputs("disktest: ok\n");
	else
		oprintf("disktest: FAIL at byte %u (wrote %02x, read %02x)\n", i, i < len ? diskbuf[i] : 0,
			i < len ? diskcmp[i] : 0);
out:
	sys_close(fd);
}

/* Sequential throughput of the disk: write MB mebibytes in 16 KiB writes (then fsync), drop the
 * device's page cache, read them back; times from CLOCK_MONOTONIC.
 * `diskbench MB rand`: the same MB mebibytes as 4 KiB blocks, written once each (O_DIRECT, so
 * every write reaches the device as it is issued; then fsync) and read back, in pseudo-random
 * orders: block (i * 1000003 + 7) mod N for the writes and (i * 1000003 + 4099) mod N for the
 * reads, i = 0..N-1, N = MB * 256 (1000003 is prime and larger than N, so each order is a
 * permutation). */
static void cmd_diskbench(void)
{
	unsigned long long mb = 4, done, total, i, n;
	long long t0, tw, tr;
	int rnd = argc >= 3 && !strcmp(argv[2], "rand");
	long fd, r = 0;

	if ((argc >= 2 && parse_uint(argv[1], &mb)) || !mb || mb > 1024 || (argc >= 3 && !rnd)) {
		oputs("usage: diskbench [MB<=1024 [rand]]\n");
		return;
	}
	total = mb * 1024 * 1024;
	n = total / BLOCK4K;
	fd = disk_open(0, total / SECTOR, 1, rnd ? O_DIRECT : 0);
	if (fd < 0)
		return;
	memset(diskbuf, 0x5a, sizeof(diskbuf));
	t0 = now_ms();
	if (rnd) {
		for (i = 0; r >= 0 && i < n; i++) {
			r = rvm_seek(fd, (i * 1000003 + 7) % n * BLOCK4K);
			if (r >= 0)
				r = write_full(fd, diskbuf, BLOCK4K);
		}
	} else {
		r = rvm_seek(fd, 0);
		for (done = 0; r >= 0 && done < total; done += sizeof(diskbuf))
			r = write_full(fd, diskbuf, sizeof(diskbuf));
	}
	if (r >= 0)
		r = sys_fsync(fd);
	tw = now_ms() - t0;
	if (r < 0) {
		perr("diskbench: write", r);
		goto out;
	}
	sys_ioctl(fd, BLKFLSBUF, 0);
	t0 = now_ms();
	if (rnd) {
		for (i = 0; r >= 0 && i < n; i++) {
			r = rvm_seek(fd, (i * 1000003 + 4099) % n * BLOCK4K);
			if (r >= 0)
				r = read_full(fd, diskbuf, BLOCK4K);
		}
	} else {
		r = rvm_seek(fd, 0);
		for (done = 0; r >= 0 && done < total; done += sizeof(diskbuf))
			r = read_full(fd, diskbuf, sizeof(diskbuf));
	}
	tr = now_ms() - t0;
	if (r < 0) {
		perr("diskbench: read", r);
		goto out;
	}
	oprintf("diskbench: %swrite %llu KiB in %lld ms, read %llu KiB in %lld ms\n", rnd ? "rand4k " : "", total / 1024,
		tw, total / 1024, tr);
out:
	sys_close(fd);
}

/* ---------- known data at chosen places: diskfill, diskcheck, disksum ----------
 * The pattern of seed S: the 32-bit little-endian word at byte offset 4k of the disk is
 * fmix32(k + S * 0x9e3779b1) (MurmurHash3's finalizer, arithmetic mod 2^32), so the host can
 * compute what any byte must be from its absolute offset alone. */
static unsigned int pattern_word(unsigned int seed, unsigned int k)
{
	unsigned int x = k + seed * 0x9e3779b1u;

	x ^= x >> 16;
	x *= 0x85ebca6bu;
	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return x;
}

#define FILLBUF (128 * SECTOR)
static unsigned int fillbuf[FILLBUF / 4] __attribute__((aligned(4096)));

/* Parses SECTOR COUNT [SEED] for diskfill/diskcheck/disksum and opens the disk; returns the fd. */
static long fill_args(const char *usage, int want_seed, unsigned long long *first, unsigned long long *count,
		      unsigned int *seed)
{
	unsigned long long s = 0;

	if (argc != 3 + want_seed || parse_uint(argv[1], first) || parse_uint(argv[2], count) || !*count ||
	    (want_seed && (parse_uint(argv[3], &s) || s > 0xffffffffu))) {
		oputs(usage);
		return -EINVAL;
	}
	*seed = (unsigned int)s;
	return disk_open(*first, *count, 1, 0);
}

/* diskfill SECTOR COUNT SEED: writes COUNT sectors from SECTOR with the pattern of SEED, in
 * 64 KiB writes, then fsync. */
static void cmd_diskfill(void)
{
	unsigned long long first, count, off, end;
	unsigned int seed, i, len;
	long fd = fill_args("usage: diskfill SECTOR COUNT SEED\n", 1, &first, &count, &seed), r = 0;

	if (fd < 0)
		return;
	end = (first + count) * SECTOR;
	r = rvm_seek(fd, first * SECTOR);
	for (off = first * SECTOR; r >= 0 && off < end; off += len) {
		len = end - off < FILLBUF ? (unsigned int)(end - off) : FILLBUF;
		for (i = 0; i < len / 4; i++)
			fillbuf[i] = pattern_word(seed, (unsigned int)(off / 4) + i);
		r = write_full(fd, fillbuf, len);
	}
	if (r >= 0)
		r = sys_fsync(fd);
	if (r < 0)
		perr("diskfill", r);
	else
		oprintf("diskfill: wrote %llu bytes at sector %llu seed %u\n", count * SECTOR, first, seed);
	sys_close(fd);
}

/* diskcheck SECTOR COUNT SEED: drops the device's page cache, reads COUNT sectors from SECTOR
 * and compares them with the pattern of SEED; disksum SECTOR COUNT: the same read, printing
 * FNV-1a over the 32-bit little-endian words (h = 2166136261; h = (h ^ w) * 16777619). */
static void disk_scan(int check)
{
	unsigned long long first, count, off, end;
	unsigned int seed, i, len, h = 2166136261u;
	long fd = fill_args(check ? "usage: diskcheck SECTOR COUNT SEED\n" : "usage: disksum SECTOR COUNT\n", check,
			    &first, &count, &seed), r = 0;

	if (fd < 0)
		return;
	sys_ioctl(fd, BLKFLSBUF, 0);
	end = (first + count) * SECTOR;
	r = rvm_seek(fd, first * SECTOR);
	for (off = first * SECTOR; r >= 0 && off < end; off += len) {
		len = end - off < FILLBUF ? (unsigned int)(end - off) : FILLBUF;
		r = read_full(fd, fillbuf, len);
		if (r >= 0 && r != (long)len) {
			oprintf("%s: short read at offset %llu\n", argv[0], off + r);
			goto out;
		}
		for (i = 0; r >= 0 && i < len / 4; i++) {
			unsigned int want = check ? pattern_word(seed, (unsigned int)(off / 4) + i) : 0;
			if (!check) {
				h = (h ^ fillbuf[i]) * 16777619u;
			} else if (fillbuf[i] != want) {
				unsigned int b = 0;
				while (((fillbuf[i] >> (8 * b)) & 0xff) == ((want >> (8 * b)) & 0xff))
					b++;
				oprintf("diskcheck: FAIL at offset %llu (expected %02x, read %02x)\n", off + 4 * i + b,
					(want >> (8 * b)) & 0xff, (fillbuf[i] >> (8 * b)) & 0xff);
				goto out;
			}
		}
	}
	if (r < 0)
		perr(argv[0], r);
	else if (check)
		oprintf("diskcheck: ok %llu bytes at sector %llu seed %u\n", count * SECTOR, first, seed);
	else
		oprintf("disksum: %08x over %llu bytes at sector %llu\n", h, count * SECTOR, first);
out:
	sys_close(fd);
}

static void cmd_diskcheck(void) { disk_scan(1); }
static void cmd_disksum(void) { disk_scan(0); }

static void cmd_diskwrite(void)
{
	unsigned long long sector;
	const char *text = rest_from(2);
	unsigned int len = strlen(text);
	long fd, r;

	if (argc < 3 || parse_uint(argv[1], &sector)) {
		oputs("usage: diskwrite SECTOR TEXT\n");
		return;
	}
	if (len > SECTOR - 1)
		len = SECTOR - 1;
	fd = disk_open(sector, 1, 1, 0);
	if (fd < 0)
		return;
	memset(diskbuf, 0, SECTOR);
	memcpy(diskbuf, text, len);
	r = rvm_seek(fd, sector * SECTOR);
	if (r >= 0)
		r = write_full(fd, diskbuf, SECTOR);
	if (r >= 0)
		r = sys_fsync(fd);
	if (r < 0)
		perr("diskwrite", r);
	else
		oprintf("diskwrite: wrote %u bytes of text at sector %llu\n", len, sector);
	sys_close(fd);
}

static void cmd_diskread(void)
{
	unsigned long long sector;
	unsigned int i;
	long fd, r;

	if (argc < 2 || parse_uint(argv[1], &sector)) {
		oputs("usage: diskread SECTOR\n");
		return;
	}
	fd = disk_open(sector, 1, 1, 0);
	if (fd < 0)
		return;
	r = rvm_seek(fd, sector * SECTOR);
	if (r >= 0)
		r = read_full(fd, diskbuf, SECTOR);
	sys_close(fd);
	if (r < 0) {
		perr("diskread", r);
		return;
	}
	oprintf("sector %llu: ", sector);
	for (i = 0; i < SECTOR && diskbuf[i]; i++)
		oputc(diskbuf[i] >= 32 && diskbuf[i] < 127 ? diskbuf[i] : '.');
	oputc('\n');
}

static void cmd_random(void)
{
	unsigned long long n = 16;
	unsigned char buf[256];
	long fd, r, i;

	if (argc >= 2 && (parse_uint(argv[1], &n) || n == 0 || n > sizeof(buf))) {
		oputs("usage: random [N<=256]\n");
		return;
	}
	fd = sys_open("/dev/hwrng", O_RDONLY, 0);
	if (fd < 0) {
		perr("/dev/hwrng", fd);
		return;
	}
	r = read_full(fd, buf, n);
	sys_close(fd);
	if (r < 0) {
		perr("/dev/hwrng", r);
		return;
	}
	oprintf("random %ld bytes:", r);
	for (i = 0; i < r; i++)
		oprintf("%s%02x", i % 32 ? "" : "\n", buf[i]);
	oputc('\n');
}

/* ---------- network ---------- */

static unsigned short inet_csum(const void *data, unsigned int len)
{
	const unsigned char *p = data;
	unsigned int sum = 0;

	for (; len > 1; len -= 2, p += 2)
		sum += (p[0] << 8) | p[1];
	if (len)
		sum += p[0] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (unsigned short)~sum; /* big-endian value */
}

static struct sockaddr_in sin_of(unsigned int addr, unsigned short port)
{
	struct sockaddr_in sa;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = RVM_AF_INET;
	sa.sin_port = be16(port);
	sa.sin_addr.s_addr = be32(addr);
	return sa;
}

static long if_ioctl(int s, unsigned long req, struct rvm_ifreq *ifr)
{
	memset(ifr->name, 0, sizeof(ifr->name));
	strcpy(ifr->name, IFNAME);
	return sys_ioctl(s, req, ifr);
}

/* Sends `count` ICMP echo requests to `dst` (host order); returns the number of replies. */
static int do_ping(unsigned int dst, int count)
{
	unsigned char pkt[64], rx[256];
	struct sockaddr_in sa = sin_of(dst, 0);
	int seq, received = 0;
	long s = rvm_socket(RVM_AF_INET, RVM_SOCK_RAW, IPPROTO_ICMP);

	if (s < 0) {
		perr("ping: socket", s);
		return 0;
	}
	for (seq = 1; seq <= count; seq++) {
		long long t0 = now_ms(), deadline = t0 + 2000;
		unsigned short sum;
		long r;
		int got = 0;

		memset(pkt, 0, sizeof(pkt));
		pkt[0] = 8; /* echo request */
		pkt[4] = 0x52; /* identifier "RV" */
		pkt[5] = 0x56;
		pkt[6] = (unsigned char)(seq >> 8);
		pkt[7] = (unsigned char)seq;
		memcpy(pkt + 8, "replayvm ping payload", 21);
		sum = inet_csum(pkt, sizeof(pkt));
		pkt[2] = (unsigned char)(sum >> 8);
		pkt[3] = (unsigned char)sum;
		r = rvm_sendto(s, pkt, sizeof(pkt), 0, &sa, sizeof(sa));
		if (r < 0) {
			perr("ping: sendto", r);
			break;
		}
		while (!got) {
			struct rvm_pollfd pfd = { (int)s, RVM_POLLIN, 0 };
			long long left = deadline - now_ms();
			unsigned int ihl;
			if (left <= 0 || rvm_poll(&pfd, 1, (unsigned int)left) <= 0)
				break;
			r = rvm_recvfrom(s, rx, sizeof(rx), 0, 0, 0);
			if (r < 20)
				continue;
			ihl = (rx[0] & 15) * 4;
			if (r < (long)ihl + 8 || rx[ihl] != 0 || rx[ihl + 4] != 0x52 || rx[ihl + 5] != 0x56 ||
			    ((rx[ihl + 6] << 8) | rx[ihl + 7]) != seq)
				continue;
			got = 1;
			received++;
			oprintf("reply from %s: icmp_seq=%d ttl=%u time=%lld ms\n", ip_str(be32(*(unsigned int *)(rx + 12))),
				seq, rx[8], now_ms() - t0);
		}
		if (!got)
			oprintf("no reply from %s: icmp_seq=%d\n", ip_str(dst), seq);
		oflush();
		if (seq < count) {
			long long wait = t0 + 1000 - now_ms();
			if (wait > 0)
				rvm_nanosleep_ms((unsigned int)wait);
		}
	}
	sys_close(s);
	oprintf("ping: %d sent, %d received\n", count, received);
	return received;
}

static void cmd_ping(void)
{
	unsigned int dst;
	unsigned long long count = 3;

	if (argc < 2 || parse_ip(argv[1], &dst) || (argc >= 3 && (parse_uint(argv[2], &count) || !count || count > 100))) {
		oputs("usage: ping A.B.C.D [COUNT]\n");
		return;
	}
	do_ping(dst, (int)count);
}

struct dhcp_lease { unsigned int addr, mask, router, dns, server, lease; };

/* Builds a BOOTP/DHCP message of `type` (1 discover, 3 request); returns its length. */
static unsigned int dhcp_build(unsigned char *m, int type, unsigned int xid, const unsigned char *mac,
			       const struct dhcp_lease *offer)
{
	unsigned char *o;

	memset(m, 0, 300);
	m[0] = 1; /* BOOTREQUEST */
	m[1] = 1; /* Ethernet */
	m[2] = 6;
	m[4] = (unsigned char)(xid >> 24);
	m[5] = (unsigned char)(xid >> 16);
	m[6] = (unsigned char)(xid >> 8);
	m[7] = (unsigned char)xid;
	m[10] = 0x80; /* broadcast flag: we have no address yet */
	memcpy(m + 28, mac, 6);
	m[236] = 99; m[237] = 130; m[238] = 83; m[239] = 99; /* magic cookie */
	o = m + 240;
	*o++ = 53; *o++ = 1; *o++ = (unsigned char)type;
	if (type == 3) {
		*o++ = 50; *o++ = 4;
		*o++ = (unsigned char)(offer->addr >> 24); *o++ = (unsigned char)(offer->addr >> 16);
		*o++ = (unsigned char)(offer->addr >> 8); *o++ = (unsigned char)offer->addr;
		*o++ = 54; *o++ = 4;
		*o++ = (unsigned char)(offer->server >> 24); *o++ = (unsigned char)(offer->server >> 16);
		*o++ = (unsigned char)(offer->server >> 8); *o++ = (unsigned char)offer->server;
	}
	*o++ = 55; *o++ = 4; *o++ = 1; *o++ = 3; *o++ = 6; *o++ = 51; /* parameters we want */
	*o++ = 255;
	return 300;
}

static unsigned int get32(const unsigned char *p)
{
	return ((unsigned int)p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

/*
 * Waits for a DHCP reply with our xid on the packet socket (which sees IP packets before the
 * stack would drop a unicast to an address we do not have yet). Returns its message type.
 */
static int dhcp_wait(int ps, unsigned int xid, struct dhcp_lease *l, unsigned int ms)
{
	static unsigned char rx[1600];
	long long deadline = now_ms() + ms;

	for (;;) {
		struct rvm_pollfd pfd = { ps, RVM_POLLIN, 0 };
		long long left = deadline - now_ms();
		unsigned char *u, *m, *o, *end;
		unsigned int ihl, type = 0;
		long r;

		if (left <= 0 || rvm_poll(&pfd, 1, (unsigned int)left) <= 0)
			return 0;
		r = rvm_recvfrom(ps, rx, sizeof(rx), 0, 0, 0);
		if (r < 28 || (rx[0] >> 4) != 4 || rx[9] != IPPROTO_UDP)
			continue;
		ihl = (rx[0] & 15) * 4;
		u = rx + ihl;
		if (r < (long)ihl + 8 + 240 || ((u[2] << 8) | u[3]) != 68)
			continue;
		m = u + 8;
		end = rx + r;
		if (m[0] != 2 || get32(m + 4) != xid || get32(m + 236) != 0x63825363)
			continue;
		memset(l, 0, sizeof(*l));
		l->addr = get32(m + 16);
		for (o = m + 240; o < end && *o != 255;) {
			unsigned int code = *o++, len;
			if (code == 0)
				continue;
			if (o >= end)
				break;
			len = *o++;
			if (o + len > end)
				break;
			if (code == 53 && len >= 1)
				type = o[0];
			else if (code == 1 && len >= 4)
				l->mask = get32(o);
			else if (code == 3 && len >= 4)
				l->router = get32(o);
			else if (code == 6 && len >= 4)
				l->dns = get32(o);
			else if (code == 54 && len >= 4)
				l->server = get32(o);
			else if (code == 51 && len >= 4)
				l->lease = get32(o);
			o += len;
		}
		if (type)
			return (int)type;
	}
}

static void cmd_net(void)
{
	struct rvm_ifreq ifr;
	struct rvm_rtentry rt;
	struct sockaddr_ll ll;
	struct sockaddr_in sa;
	struct dhcp_lease offer, ack;
	unsigned char mac[6], msg[300];
	unsigned int xid, prefix, m;
	int one = 1, attempt, type = 0, ifindex;
	long s = -1, us = -1, ps = -1, r;
	struct rvm_timespec64 ts;

	s = rvm_socket(RVM_AF_INET, RVM_SOCK_DGRAM, 0);
	if (s < 0) {
		perr("net: socket", s);
		return;
	}
	r = if_ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r < 0) {
		perr("net: " IFNAME, r);
		goto out;
	}
	ifr.u.flags |= RVM_IFF_UP;
	r = if_ioctl(s, SIOCSIFFLAGS, &ifr);
	if (r < 0) {
		perr("net: SIOCSIFFLAGS", r);
		goto out;
	}
	r = if_ioctl(s, SIOCGIFHWADDR, &ifr);
	if (r < 0) {
		perr("net: SIOCGIFHWADDR", r);
		goto out;
	}
	memcpy(mac, ifr.u.addr.sa_data, 6);
	r = if_ioctl(s, SIOCGIFINDEX, &ifr);
	if (r < 0) {
		perr("net: SIOCGIFINDEX", r);
		goto out;
	}
	ifindex = ifr.u.ifindex;
	oprintf("net: %s up, mac %02x:%02x:%02x:%02x:%02x:%02x\n", IFNAME, mac[0], mac[1], mac[2], mac[3], mac[4],
		mac[5]);
	oflush();

	/* Replies are read from a packet socket, requests go out through a UDP socket on port 68. */
	ps = rvm_socket(RVM_AF_PACKET, RVM_SOCK_DGRAM, be16(ETH_P_IP));
	if (ps < 0) {
		perr("net: packet socket", ps);
		goto out;
	}
	memset(&ll, 0, sizeof(ll));
	ll.sll_family = RVM_AF_PACKET;
	ll.sll_protocol = be16(ETH_P_IP);
	ll.sll_ifindex = ifindex;
	r = rvm_bind(ps, &ll, sizeof(ll));
	if (r < 0) {
		perr("net: bind packet socket", r);
		goto out;
	}
	us = rvm_socket(RVM_AF_INET, RVM_SOCK_DGRAM, IPPROTO_UDP);
	if (us < 0) {
		perr("net: udp socket", us);
		goto out;
	}
	rvm_setsockopt(us, RVM_SOL_SOCKET, RVM_SO_REUSEADDR, &one, sizeof(one));
	rvm_setsockopt(us, RVM_SOL_SOCKET, RVM_SO_BROADCAST, &one, sizeof(one));
	r = rvm_setsockopt(us, RVM_SOL_SOCKET, RVM_SO_BINDTODEVICE, IFNAME, sizeof(IFNAME));
	if (r < 0) {
		perr("net: SO_BINDTODEVICE", r);
		goto out;
	}
	sa = sin_of(0, 68);
	r = rvm_bind(us, &sa, sizeof(sa));
	if (r < 0) {
		perr("net: bind udp/68", r);
		goto out;
	}
	rvm_clock_gettime(RVM_CLOCK_MONOTONIC, &ts);
	xid = ((unsigned int)mac[2] << 24 | mac[3] << 16 | mac[4] << 8 | mac[5]) ^ (unsigned int)ts.tv_nsec;
	sa = sin_of(0xffffffff, 67);
	for (attempt = 0; attempt < 4 && type != 2; attempt++) {
		dhcp_build(msg, 1, xid, mac, 0);
		r = rvm_sendto(us, msg, 300, 0, &sa, sizeof(sa));
		if (r < 0) {
			perr("net: send DHCPDISCOVER", r);
			goto out;
		}
		type = dhcp_wait(ps, xid, &offer, 2000);
	}
	if (type != 2) {
		oputs("net: no DHCPOFFER\n");
		goto out;
	}
	oprintf("net: offer %s from %s\n", ip_str(offer.addr), ip_str(offer.server));
	oflush();
	for (attempt = 0, type = 0; attempt < 4 && type != 5 && type != 6; attempt++) {
		dhcp_build(msg, 3, xid, mac, &offer);
		r = rvm_sendto(us, msg, 300, 0, &sa, sizeof(sa));
		if (r < 0) {
			perr("net: send DHCPREQUEST", r);
			goto out;
		}
		type = dhcp_wait(ps, xid, &ack, 2000);
	}
	if (type != 5) {
		oputs(type == 6 ? "net: DHCPNAK\n" : "net: no DHCPACK\n");
		goto out;
	}
	if (!ack.mask)
		ack.mask = 0xffffff00;
	for (prefix = 0, m = ack.mask; m & 0x80000000; m <<= 1)
		prefix++;

	memset(&ifr.u, 0, sizeof(ifr.u));
	ifr.u.in = sin_of(ack.addr, 0);
	r = if_ioctl(s, SIOCSIFADDR, &ifr);
	if (r < 0) {
		perr("net: SIOCSIFADDR", r);
		goto out;
	}
	ifr.u.in = sin_of(ack.mask, 0);
	r = if_ioctl(s, SIOCSIFNETMASK, &ifr);
	if (r < 0) {
		perr("net: SIOCSIFNETMASK", r);
		goto out;
	}
	if (ack.router) {
		memset(&rt, 0, sizeof(rt));
		rt.dst = sin_of(0, 0);
		rt.genmask = sin_of(0, 0);
		rt.gateway = sin_of(ack.router, 0);
		rt.flags = RVM_RTF_UP | RVM_RTF_GATEWAY;
		rt.dev = IFNAME;
		r = sys_ioctl(s, SIOCADDRT, &rt);
		if (r < 0 && r != -EEXIST)
			perr("net: SIOCADDRT", r);
	}
	oprintf("net: leased %s/%u gw %s dns %s lease %u s\n", ip_str(ack.addr), prefix, ip_str(ack.router),
		ip_str(ack.dns), ack.lease);
	oflush();
	sys_close(us);
	sys_close(ps);
	us = ps = -1;
	if (ack.router)
		do_ping(ack.router, 1);
out:
	if (us >= 0)
		sys_close(us);
	if (ps >= 0)
		sys_close(ps);
	sys_close(s);
}

static void cmd_listen(void)
{
	unsigned long long port;
	struct sockaddr_in sa, peer;
	char buf[512];
	int one = 1, plen = sizeof(peer);
	unsigned int n = 0;
	long s, c, r;

	if (argc < 2 || parse_uint(argv[1], &port) || !port || port > 65535) {
		oputs("usage: listen PORT\n");
		return;
	}
	s = rvm_socket(RVM_AF_INET, RVM_SOCK_STREAM, 0);
	if (s < 0) {
		perr("listen: socket", s);
		return;
	}
	rvm_setsockopt(s, RVM_SOL_SOCKET, RVM_SO_REUSEADDR, &one, sizeof(one));
	sa = sin_of(0, (unsigned short)port);
	r = rvm_bind(s, &sa, sizeof(sa));
	if (r >= 0)
		r = rvm_listen(s, 1);
	if (r < 0) {
		perr("listen", r);
		sys_close(s);
		return;
	}
	oprintf("listening on tcp port %llu\n", port);
	oflush();
	c = rvm_accept(s, &peer, &plen);
	sys_close(s);
	if (c < 0) {
		perr("listen: accept", c);
		return;
	}
	oprintf("connection from %s:%u\n", ip_str(be32(peer.sin_addr.s_addr)), be16(peer.sin_port));
	oflush();
	while (n < sizeof(buf)) {
		r = sys_read(c, buf + n, sizeof(buf) - n);
		if (r <= 0)
			break;
		n += r;
		if (rvm_memchr(buf, '\n', n))
			break;
	}
	if (n) {
		char *nl = rvm_memchr(buf, '\n', n);
		if (nl)
			n = nl - buf + 1;
		write_full(c, buf, n);
	}
	sys_close(c);
	oprintf("echoed %u bytes\n", n);
}

static void cmd_power(int restart)
{
	long r;

	oputs(restart ? "rebooting\n" : "powering off\n");
	oflush();
	rvm_sync();
	r = sys_reboot(LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
		       restart ? LINUX_REBOOT_CMD_RESTART : LINUX_REBOOT_CMD_POWER_OFF, 0);
	perr(restart ? "reboot" : "poweroff", r);
}

static const struct { const char *name; void (*fn)(void); } commands[] = {
	{ "help", cmd_help }, { "echo", cmd_echo }, { "cat", cmd_cat }, { "ls", cmd_ls },
	{ "hexdump", cmd_hexdump }, { "write", cmd_write }, { "date", cmd_date }, { "uptime", cmd_uptime },
	{ "free", cmd_free }, { "dmesg", cmd_dmesg }, { "uname", cmd_uname }, { "nproc", cmd_nproc },
	{ "cpus", cmd_nproc }, { "sleep", cmd_sleep }, { "sync", cmd_sync }, { "disk", cmd_disk }, { "disktest", cmd_disktest }, { "diskbench", cmd_diskbench },
	{ "diskfill", cmd_diskfill }, { "diskcheck", cmd_diskcheck }, { "disksum", cmd_disksum },
	{ "diskwrite", cmd_diskwrite }, { "diskread", cmd_diskread }, { "random", cmd_random },
	{ "net", cmd_net }, { "ping", cmd_ping }, { "listen", cmd_listen },
};

static void mount_one(const char *src, const char *dir, const char *type)
{
	long r;

	sys_mkdir(dir, 0755);
	r = sys_mount(src, dir, type, 0, 0);
	if (r < 0 && r != -EBUSY)
		perr(dir, r);
}

int main(void)
{
	struct rvm_utsname u;

	mount_one("proc", "/proc", "proc");
	mount_one("sysfs", "/sys", "sysfs");
	mount_one("devtmpfs", "/dev", "devtmpfs");
	if (rvm_uname(&u) < 0)
		strcpy(u.release, "?");
	oprintf("\n" BANNER " (Linux %s)\ntype 'help' for commands\n", u.release);

	for (;;) {
		unsigned int i;

		oputs(PROMPT);
		oflush();
		if (!read_line()) {
			/* No console input (hang-up or EOF): do not spin, PID 1 must not exit. */
			rvm_nanosleep_ms(1000);
			continue;
		}
		tokenize();
		if (!argc)
			continue;
		if (!strcmp(argv[0], "poweroff") || !strcmp(argv[0], "reboot")) {
			cmd_power(argv[0][0] == 'r');
			continue;
		}
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[0], commands[i].name)) {
				commands[i].fn();
				break;
			}
		if (i == sizeof(commands) / sizeof(commands[0]))
			oprintf("unknown command: %s\n", argv[0]);
	}
}
