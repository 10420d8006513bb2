/* v2e: the vmm program. Parses the command line, builds the VM, loads the
 * kernel, runs it, and turns the way it ended into the exit status. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "lib/log.h"
#include "vmm/config.h"
#include "vmm/qlog.h"
#include "vmm/vm.h"

#define V2E_VERSION "0.1"

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

int main(int argc, char **argv)
{
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
	if (cfg.help) {
		fputs(config_usage(), stdout);
		return 0;
	}
	if (cfg.version) {
		printf("v2e version " V2E_VERSION "\n");
		return 0;
	}
	r = vm_create(&vm, &cfg);
	if (r < 0) {
		if (vm.exit_reason[0])
			log_error("%s", vm.exit_reason);
		else
			log_error("cannot create the VM: %s", strerror(-r));
		return vm.exit_status ? vm.exit_status : V2E_EXIT_HOST;
	}
	vm.sigfd = signals_to_fd();
	status = vm_load_kernel(&vm);
	if (status == 0)
		status = vm_run(&vm);
	/* isa-debug-exit's statuses are the guest's words, not ours. */
	if ((status != 0 && !(status & 1)) || vm.signalled)
		log_error("%s", vm.exit_reason);
	if (vm.sigfd >= 0)
		close(vm.sigfd);
	vm_destroy(&vm);
	return status;
}
