/* The vCPU loop (vm.h): bursts of the vCPU's engine between clock
 * updates, timers fired from the virtual clock, idle time jumped over in
 * deterministic mode and slept through in real-time mode. Nothing here
 * knows which engine runs the bursts. */
#include "vmm/vm.h"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "vmm/gdbstub.h"
#include "vmm/halt_poll.h"
#include "lib/clock.h"

/* Instructions per burst in real-time mode, between clock reads. */
#define RT_BURST 200000
/* The first burst after a halted vCPU woke: an idle guest's interrupt
 * handler (about 3,000 instructions for Linux's tick) runs and halts
 * again within it, so no host timer is armed for it: a wake-up costs one
 * system call instead of three. A guest that keeps running gets the host
 * timer from its next burst on; its timers are at most this burst late. */
#define RT_WAKE_BURST 20000
/* Sleeps in a row, each ended by a timer and followed by a halt within
 * the wake burst, before an idle guest's tick may come late: 64 ms of
 * Linux's 250 Hz tick. */
#define IDLE_SLEEPS_BEFORE_SLACK 16

uint64_t vm_clock_source(const struct vm *vm)
{
	if (vm->cfg->icount)
		return (vcpu_icount(&vm->vcpu) << vm->cfg->icount_shift) + vm->idle_ns;
	return mono_ns() - vm->start_host_ns;
}

/* ---- real-time mode: ending a burst at the next timer deadline ---- */

/* The host timer's signal: the vCPU finishes its block and returns, the
 * run loop moves the clock and fires what is due. The handler finds the
 * vCPU in the signal's value (no global state), and only stores a flag. */
#define KICK_SIGNAL (SIGRTMIN + 1)

static void kick_handler(int sig, siginfo_t *si, void *uc)
{
	vcpu_request_exit(si->si_value.sival_ptr);
}

static void kick_timer_create(struct vm *vm)
{
	struct sigaction sa;
	struct sigevent sev;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = kick_handler;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	memset(&sev, 0, sizeof(sev));
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev.sigev_signo = KICK_SIGNAL;
	sev.sigev_value.sival_ptr = &vm->vcpu;
	sev._sigev_un._tid = gettid();
	/* Without it, timers are only as late as one burst: still works. */
	vm->kick_armed = VCLOCK_NEVER;
	vm->kick_timer_ok = sigaction(KICK_SIGNAL, &sa, NULL) == 0 &&
			    timer_create(CLOCK_MONOTONIC, &sev, &vm->kick_timer) == 0;
}

/* Arms the host timer for the clock's next deadline when that changed
 * (the last one fired, a device armed another). One syscall at most, and
 * only in real-time mode. */
static void kick_timer_sync(struct vm *vm)
{
	struct itimerspec its;
	uint64_t next, at;

	if (!vm->kick_timer_ok)
		return;
	next = vclock_next_deadline(&vm->clock);
	if (next == vm->kick_armed)
		return;
	vm->kick_armed = next;
	memset(&its, 0, sizeof(its));
	if (next != VCLOCK_NEVER) {
		at = vm->start_host_ns + next;
		its.it_value.tv_sec = (time_t)(at / 1000000000);
		its.it_value.tv_nsec = (long)(at % 1000000000);
	}
	timer_settime(vm->kick_timer, TIMER_ABSTIME, &its, NULL);
}

/* After a device access: only a deadline earlier than the armed one
 * needs the host timer now; a later one is armed between bursts (the
 * early kick costs one empty exit). */
void vm_kick_check(struct vm *vm)
{
	if (vm->kick_timer_ok && !vm->wake_burst &&
	    vclock_next_deadline(&vm->clock) < vm->kick_armed)
		kick_timer_sync(vm);
}

/* Before a halted vCPU sleeps: the sleep's own timeout wakes it at the
 * deadline, and a signal on top would cost a delivery and a return for
 * nothing (an idle guest wakes hundreds of times a second). */
static void kick_timer_disarm(struct vm *vm)
{
	struct itimerspec its;
	if (!vm->kick_timer_ok || vm->kick_armed == VCLOCK_NEVER)
		return;
	memset(&its, 0, sizeof(its));
	timer_settime(vm->kick_timer, TIMER_ABSTIME, &its, NULL);
	vm->kick_armed = VCLOCK_NEVER;
}

static void kick_timer_delete(struct vm *vm)
{
	if (vm->kick_timer_ok)
		timer_delete(vm->kick_timer);
	vm->kick_timer_ok = false;
}


/* The file descriptors a halted vCPU sleeps on, registered with epoll
 * once instead of handed to ppoll at each sleep: an idle guest sleeps
 * hundreds of times a second, and ppoll polls and queues on each of its
 * descriptors every time (1.5 us of the 40 us an idle Linux tick costs
 * this host). Only descriptors that live as long as what owns them are
 * kept registered: the signalfd and out-of-process device models' event
 * channels and control sockets. A debugger's, a display's or an
 * in-process device's descriptors come and go, and a closed one's number
 * can come back for another file, which a registration would miss: while
 * any of those is there, the sleep is a ppoll. */
#define WAIT_FDS_MAX (3 + 2 * 2)
#define WAIT_SET_OFF (-2)
struct wait_set {
	int ep;                   /* the epoll instance, -1 before the first,
				   * WAIT_SET_OFF once epoll failed */
	unsigned n;
	int fd[WAIT_FDS_MAX];     /* registered, in the order of wait_for_event() */
};

/* Makes `ws` register exactly fds[0..n); false if epoll is unavailable
 * (then for good: each sleep would otherwise try it again). */
static bool wait_set_match(struct wait_set *ws, const struct pollfd *fds, unsigned n)
{
	bool same = ws->ep >= 0 && ws->n == n;
	for (unsigned i = 0; same && i < n; i++)
		same = ws->fd[i] == fds[i].fd;
	if (same)
		return true;
	if (ws->ep == WAIT_SET_OFF)
		return false;
	/* The set changed (a device model failed): a new instance rather
	 * than removals, as a closed descriptor has left it already. */
	if (ws->ep >= 0)
		close(ws->ep);
	ws->n = 0;
	ws->ep = epoll_create1(EPOLL_CLOEXEC);
	for (unsigned i = 0; ws->ep >= 0 && i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
		if (epoll_ctl(ws->ep, EPOLL_CTL_ADD, fds[i].fd, &ev) < 0) {
			close(ws->ep);
			ws->ep = -1;
		}
		ws->fd[i] = fds[i].fd;
	}
	if (ws->ep < 0) {
		ws->ep = WAIT_SET_OFF;
		return false;
	}
	ws->n = n;
	return true;
}

/* Waits as ppoll(fds, n, ts) would, setting revents to POLLIN for the
 * ready ones; through `ws` when `lasting` (every descriptor lives as
 * long as its owner) and epoll works. Returns how many are ready. */
static int wait_fds(struct wait_set *ws, struct pollfd *fds, unsigned n,
		    const struct timespec *ts, bool lasting)
{
	struct epoll_event ev[WAIT_FDS_MAX];
	int r;

	if (!lasting || !wait_set_match(ws, fds, n))
		return ppoll(fds, n, ts, NULL);
	r = epoll_pwait2(ws->ep, ev, WAIT_FDS_MAX, ts, NULL);
	for (int i = 0; i < r; i++)
		fds[ev[i].data.u32].revents = POLLIN;
	return r;
}

/* Sleeps until `ns` pass (-1: no limit), terminal input arrives, or a
 * signal: what can wake a halted vCPU. True when something other than
 * the time ended the sleep. */
static bool wait_for_event(struct vm *vm, struct wait_set *ws, int64_t ns)
{
	struct pollfd fds[WAIT_FDS_MAX];
	unsigned first_fd[2] = {0, 0}, display_at = ~0u;
	struct timespec ts;
	nfds_t n = 0;
	bool lasting = true;
	int r;

	/* ppoll's nanoseconds, not poll's milliseconds: a guest timer
	 * (the LAPIC's 1 ms periodic, a one-shot a few microseconds out)
	 * must not wake up to a millisecond late. */
	if (ns >= 0) {
		ts.tv_sec = ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
	}
	if (vm->sigfd >= 0)
		fds[n++] = (struct pollfd){vm->sigfd, POLLIN, 0};
	/* A debugger's Ctrl-C (or its arrival). */
	if (vm->gdb) {
		fds[n++] = (struct pollfd){gdbstub_fd(vm->gdb), POLLIN, 0};
		lasting = false;
	}
	/* The display's death: another is started at once. */
	if (display_host_fd(&vm->display) >= 0) {
		display_at = (unsigned)n;
		fds[n++] = (struct pollfd){display_host_fd(&vm->display), POLLIN, 0};
		lasting = false;
	}
	/* A device model's events (terminal input) and its death. */
	for (unsigned d = 0; d < vm->n_dm; d++) {
		int w[2];
		unsigned k = dm_link_wake_fds(&vm->dm[d], w);
		first_fd[d] = k ? (unsigned)n : ~0u;
		for (unsigned i = 0; i < k; i++)
			fds[n++] = (struct pollfd){w[i], POLLIN, 0};
		if (vm->dm[d].inprocess)
			lasting = false;
	}
	for (unsigned d = 0; d < vm->n_dm; d++) {
		if (!dm_link_wait_begin(&vm->dm[d])) {
			while (d-- > 0)
				dm_link_wait_end(&vm->dm[d]);
			return true; /* the loop polls the links */
		}
	}
	r = wait_fds(ws, fds, (unsigned)n, ns < 0 ? NULL : &ts, lasting);
	for (unsigned d = 0; d < vm->n_dm; d++)
		dm_link_wait_end(&vm->dm[d]);
	if (r <= 0)
		return false;
	if (vm->sigfd >= 0 && fds[0].revents)
		vm->sig_ready = true;
	if (display_at != ~0u && fds[display_at].revents)
		display_host_check(&vm->display);
	for (unsigned d = 0; d < vm->n_dm; d++)
		if (first_fd[d] != ~0u && (fds[first_fd[d]].revents & POLLIN))
			dm_link_woken(&vm->dm[d]);
	return true;
}

/* Looks at the doorbells from `start` (mono_ns()) for up to the window,
 * and not past *ns, the next timer (-1 for none): true when one rang (the
 * loop drains it); else *ns is what is left of the wait. A dm in this
 * process, or one that failed, has no doorbell to look at. */
static bool halt_poll(struct vm *vm, uint64_t start, int64_t *ns)
{
	const volatile uint32_t *bell[ARRAY_SIZE(vm->dm)];
	uint64_t limit = vm->halt_poll_ns, spent = 0;
	unsigned n = 0;

	if (!limit || vm->gdb)
		return false;
	for (unsigned d = 0; d < vm->n_dm; d++)
		if ((bell[n] = dm_link_doorbell(&vm->dm[d])) != NULL)
			n++;
	if (!n)
		return false;
	if (*ns >= 0 && (uint64_t)*ns < limit)
		limit = (uint64_t)*ns;
	for (unsigned spins = 0;; spins++) {
		for (unsigned i = 0; i < n; i++)
			if (__atomic_load_n(bell[i], __ATOMIC_ACQUIRE))
				return true;
		/* No PAUSE: see cpu_relax() in ioreq/chan.c. */
		__asm__ volatile("" ::: "memory");
		if (spins % 64 == 63 && (spent = mono_ns() - start) >= limit)
			break;
	}
	if (*ns >= 0)
		*ns = *ns > (int64_t)spent ? *ns - (int64_t)spent : 0;
	return false;
}

/* The vCPU is stopped for the debugger: wait for it (or a signal). */
static void gdb_wait(struct vm *vm)
{
	struct pollfd fds[2];
	nfds_t n = 0;

	if (vm->sigfd >= 0)
		fds[n++] = (struct pollfd){vm->sigfd, POLLIN, 0};
	fds[n++] = (struct pollfd){gdbstub_fd(vm->gdb), POLLIN, 0};
	poll(fds, n, -1);
}

int vm_run(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	struct wait_set ws = {.ep = -1};

	if (!cfg->icount)
		kick_timer_create(vm);

	while (!vm->stop) {
		uint64_t now = vm_clock_source(vm), next, budget;
		struct signalfd_siginfo si;
		enum cpu_exit r;

		/* The signalfd is read when a sleep saw it readable and every
		 * 16th burst (a few ms of guest time), not after each burst:
		 * an idle guest wakes hundreds of times a second, and each
		 * look is a system call. */
		/* The display's life is looked at as rarely (one waitpid). */
		if (vm->sig_bursts % 16 == 15)
			display_host_check(&vm->display);
		if (vm->sigfd >= 0 && (vm->sig_ready || ++vm->sig_bursts % 16 == 0) &&
		    (vm->sig_ready = false, read(vm->sigfd, &si, sizeof(si)) == sizeof(si))) {
			/* As QEMU: a clean stop, status 0, and a word why. */
			vm->signalled = true;
			vm_request_stop(vm, V2E_EXIT_OK, "terminating on signal %u",
					si.ssi_signo);
			break;
		}

		/* The debugger: Ctrl-C is seen between bursts. While it
		 * holds the vCPU, nothing runs and the clock stands still. */
		if (vm->gdb) {
			gdbstub_poll(vm->gdb);
			if (vm->stop)
				break;
			if (gdbstub_stopped(vm->gdb)) {
				uint64_t t0 = mono_ns();
				gdb_wait(vm);
				/* Real time stands still too: the host time
				 * spent stopped is taken out of the clock (as
				 * QEMU's paused clock), and the host timer is
				 * armed afresh from it. */
				if (!cfg->icount) {
					vm->start_host_ns += mono_ns() - t0;
					vm->kick_armed = VCLOCK_NEVER;
				}
				continue;
			}
		}

		vclock_advance_to(&vm->clock, now);
		for (unsigned d = 0; d < vm->n_dm; d++)
			dm_link_poll(&vm->dm[d]);
		/* The screen, while someone watches it: host time, so the
		 * guest sees nothing of it, even under -icount. */
		if (unlikely(display_host_watched(&vm->display)))
			display_host_poll(&vm->display, mono_ns());
		if (vm->stop)
			break;
		next = vclock_next_deadline(&vm->clock);
		if (cfg->icount) {
			/* Run exactly up to the next timer deadline. */
			budget = next == VCLOCK_NEVER ? 1000000
				 : ((next - vclock_now(&vm->clock)) >> cfg->icount_shift) + 1;
			if (budget > 1000000)
				budget = 1000000;
		} else if (vm->woke) {
			budget = RT_WAKE_BURST;
			vm->woke = false;
			vm->wake_burst = true;
		} else {
			budget = RT_BURST;
			kick_timer_sync(vm);
		}
		r = vcpu_run(&vm->vcpu, budget);
		vm->wake_burst = false;
		if (r != CPU_EXIT_HALT)
			vm->idle_sleeps = 0; /* the guest is at work */
		/* The log follows the guest burst by burst (tail -f, a crash
		 * loses at most one burst's lines). */
		if (unlikely(vm->qlog.f != NULL))
			qlog_flush(&vm->qlog);
		/* Buffered writes land, and their events, at the burst's end:
		 * a deterministic point. */
		for (unsigned d = 0; d < vm->n_dm; d++)
			dm_link_sync(&vm->dm[d]);
		if (vm->stop)
			break;
		if (r == CPU_EXIT_DEBUG && vm->gdb) {
			struct cpu_debug_stop why;
			vm->vcpu.ops->debug_stop(vm->vcpu.e, &why);
			gdbstub_cpu_stopped(vm->gdb, &why);
			continue;
		}
		if (r == CPU_EXIT_SHUTDOWN || vm->reset_pending) {
			bool triple = r == CPU_EXIT_SHUTDOWN;
			if (triple && qlog_on(&vm->qlog, CPU_LOG_GUEST)) {
				struct x86_state s;
				vcpu_get_state(&vm->vcpu, &s);
				qlog_printf(&vm->qlog, CPU_LOG_GUEST,
					    "triple fault at icount %llu: the machine %s",
					    (unsigned long long)vcpu_icount(&vm->vcpu),
					    cfg->no_reboot ? "stops (-no-reboot)" : "resets");
				qlog_dump_state(&vm->qlog, &s);
			}
			if (cfg->no_reboot) {
				/* A guest-requested reset is its way out
				 * (status 0); a triple fault is fatal. */
				if (triple)
					vm_request_stop(vm, V2E_EXIT_GUEST_FATAL,
							"guest triple fault (machine would reset; -no-reboot)");
				else
					vm_request_stop(vm, V2E_EXIT_OK, "guest reset (-no-reboot)");
				break;
			}
			if (vm_reset(vm) != 0) {
				vm_request_stop(vm, V2E_EXIT_USAGE, "%s", vm->exit_reason);
				break;
			}
			continue;
		}
		if (r == CPU_EXIT_HALT) {
			struct x86_state s;
			next = vclock_next_deadline(&vm->clock);
			vcpu_get_state(&vm->vcpu, &s);
			/* With IF clear only an NMI could wake it, and no
			 * device raises NMIs: the halt is final (a kernel's
			 * "System halted" without a power-off device). With IF
			 * set, a timer or terminal input may still come. */
			if (!(s.rflags & FL_IF) ||
			    (next == VCLOCK_NEVER && !vm->term_input)) {
				vm_request_stop(vm, V2E_EXIT_GUEST_FATAL,
						"guest halted with nothing to wake it "
						"(HLT at %#llx, IF=%d)",
						(unsigned long long)s.rip,
						(s.rflags & FL_IF) != 0);
				break;
			}
			/* An interrupt raised since the halt (events drained
			 * at the burst's end: a disk's completion) wakes it
			 * now, not at the next timer. */
			if (lapic_intr(&vm->lapic))
				continue;
			if (cfg->icount && next != VCLOCK_NEVER) {
				/* Jump over idle time. */
				uint64_t at = vm_clock_source(vm);
				if (next > at)
					vm->idle_ns += next - at;
			} else {
				uint64_t at = vm_clock_source(vm);
				int64_t ns;
				/* A guest that has only slept and taken its
				 * tick for a while takes the tick late, and
				 * the host wakes it several times less often
				 * (-tick-slack). Its first ticks after any
				 * work or input come on time, so a busy
				 * guest's timing and accounting are exact. */
				if (vm->idle_sleeps >= IDLE_SLEEPS_BEFORE_SLACK)
					next = vclock_next_wake(&vm->clock, cfg->tick_slack_ns);
				ns = next == VCLOCK_NEVER ? -1
				     : next > at ? (int64_t)(next - at) : 0;
				/* A watched screen is looked at while the guest
				 * sleeps too (its last writes before HLT). */
				if (display_host_watched(&vm->display)) {
					uint64_t t = mono_ns(),
						 due = display_host_poll(&vm->display, t);
					if (due != UINT64_MAX &&
					    (ns < 0 || (int64_t)(due - t) < ns))
						ns = (int64_t)(due - t);
				}
				uint64_t halted = mono_ns();
				bool poll = !cfg->icount,
				     woken = poll && halt_poll(vm, halted, &ns);
				if (!woken) {
					kick_timer_disarm(vm);
					woken = wait_for_event(vm, &ws, ns);
				}
				if (woken)
					vm->idle_sleeps = 0;
				else if (vm->idle_sleeps < IDLE_SLEEPS_BEFORE_SLACK)
					vm->idle_sleeps++;
				if (poll)
					vm->halt_poll_ns = halt_poll_window(
						vm->halt_poll_ns, mono_ns() - halted, woken);
				vm->woke = true;
			}
		}
	}
	kick_timer_delete(vm);
	if (ws.ep >= 0)
		close(ws.ep);
	qlog_flush(&vm->qlog);
	if (vm->gdb)
		gdbstub_vm_exited(vm->gdb, vm->exit_status);
	return vm->exit_status;
}

