/* v2e: the vmm program. Parses the command line, builds the VM, loads the
 * kernel, runs it, and turns the way it ended into the exit status. */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/config.h"
#include "vmm/qlog.h"
#include "vmm/vm.h"


/* SIGINT and SIGTERM arrive on a signalfd the run loop reads between
 * bursts, so they end the VM cleanly instead of killing the process. */
static int signals_to_fd(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

/* -pidfile: v2e's PID, locked while it runs (a second v2e on the same
 * file is refused, as QEMU does); removed at the end. Returns the
 * descriptor holding the lock, or -1 with the reason printed. */
static int write_pidfile(const char *path)
{
	char buf[32];
	int n, fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		log_error("-pidfile %s: %s", path, strerror(errno));
		return -1;
	}
	if (lockf(fd, F_TLOCK, 0) < 0) {
		log_error("-pidfile %s: %s (another v2e holds it?)", path, strerror(errno));
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || write(fd, buf, (size_t)n) != n) {
		log_error("-pidfile %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* -daemonize, as QEMU: the parent waits until the VM is set up (its
 * errors still on the user's terminal) and exits with the status the
 * daemon reports; the daemon leaves the session. Returns the descriptor
 * the daemon reports on, or -1. */
static int daemon_start(void)
{
	int p[2];
	pid_t pid;
	uint8_t st;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid > 0) {
		close(p[1]);
		if (read(p[0], &st, 1) != 1)
			_exit(V2E_EXIT_HOST); /* it died before it could say */
		_exit(st);
	}
	close(p[0]);
	setsid();
	return p[1];
}

/* The daemon is set up: the parent exits with `status`; on success the
 * daemon lets go of the terminal and the working folder. */
static void daemon_ready(int fd, int status)
{
	uint8_t st = (uint8_t)status;
	int null;
	if (write(fd, &st, 1) != 1)
		log_warn("-daemonize: cannot tell the parent");
	close(fd);
	if (status)
		return;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
	if (chdir("/") < 0)
		log_warn("-daemonize: cannot leave the working folder");
}

int main(int argc, char **argv)
{
	int ready_fd = -1;
	int pidfd = -1;
	struct vm_config cfg;
	struct vm vm;
	char err[256];
	int status, r;

	log_set_prog("v2e");
	if (config_parse(&cfg, argc, argv, err, sizeof(err)) < 0) {
		log_error("%s", err);
		fprintf(stderr, "Try 'v2e -help' for the options v2e supports.\n");
		return V2E_EXIT_USAGE;
	}
	if (cfg.log_help) {
		qlog_print_help(stdout);
		return 0;
	}
	if (cfg.device_props) {
		dev_kind_help(stdout, cfg.device_props);
		return 0;
	}
	if (cfg.device_help) {
		dev_kinds_help(stdout);
		return 0;
	}
	if (cfg.help) {
		fputs(config_usage(), stdout);
		return 0;
	}
	if (cfg.version) {
		printf("v2e version " V2E_VERSION "\n");
		return 0;
	}
	if (cfg.daemonize && (ready_fd = daemon_start()) < 0) {
		log_error("-daemonize: %s", strerror(errno));
		return V2E_EXIT_HOST;
	}
	if (cfg.pidfile && (pidfd = write_pidfile(cfg.pidfile)) < 0) {
		if (ready_fd >= 0)
			daemon_ready(ready_fd, V2E_EXIT_USAGE);
		return V2E_EXIT_USAGE;
	}
	r = vm_create(&vm, &cfg);
	if (r < 0) {
		status = vm.exit_status ? vm.exit_status : V2E_EXIT_HOST;
		if (vm.exit_reason[0])
			log_error("%s", vm.exit_reason);
		else
			log_error("cannot create the VM: %s", strerror(-r));
		if (pidfd >= 0)
			unlink(cfg.pidfile);
		if (ready_fd >= 0)
			daemon_ready(ready_fd, status);
		return status;
	}
	if (ready_fd >= 0)
		daemon_ready(ready_fd, 0);
	if (vm.display.where[0])
		fprintf(stderr, "v2e: VNC server on %s%s\n", vm.display.where,
			cfg.implied_serial ? "; the serial console is on this terminal" : "");
	if (vm.term_open && vm.term.tty)
		fprintf(stderr, "v2e: %s%sCtrl-A X quits, Ctrl-A H lists the keys\n",
			cfg.name ? cfg.name : "", cfg.name ? ": " : "");
	vm.sigfd = signals_to_fd();
	status = vm_run(&vm);
	/* isa-debug-exit's statuses are the guest's words, not ours. */
	if ((status != 0 && !(status & 1)) || vm.signalled)
		log_error("%s", vm.exit_reason);
	if (vm.sigfd >= 0)
		close(vm.sigfd);
	vm_destroy(&vm);
	if (pidfd >= 0) {
		unlink(cfg.pidfile);
		close(pidfd);
	}
	return status;
}
