# fuzz: the qcow2 fuzz target. `make fuzz` builds it with clang's libFuzzer
# and runs it for FUZZ_TIME seconds on seeds from make-corpus.sh plus
# fuzz/corpus/ (where inputs worth keeping are committed). `make check`
# replays them (tests/block/fuzz-replay.sh) without libFuzzer.
$(B)/tests/block-fuzz-replay: $(B)/fuzz/replay.o $(B)/fuzz/qcow2_fuzz.o \
		$(B)/libblock.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(BLOCK_LDLIBS)
$(B)/tests/block-fuzz-replay.t: $(B)/tests/block-fuzz-replay

FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_OUT := build/fuzz
FUZZ_SRCS := fuzz/qcow2_fuzz.c $(wildcard src/block/*.c) \
	src/lib/log.c src/lib/event_loop.c
$(FUZZ_OUT)/qcow2-fuzz: $(FUZZ_SRCS) $(wildcard src/block/*.h)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc \
		-fsanitize=fuzzer,address,undefined -o $@ $(FUZZ_SRCS) \
		$(BLOCK_LDLIBS)
fuzz: $(FUZZ_OUT)/qcow2-fuzz
	@rm -rf $(FUZZ_OUT)/seeds && fuzz/make-corpus.sh $(FUZZ_OUT)/seeds
	@mkdir -p $(FUZZ_OUT)/corpus fuzz/corpus/qcow2
	$(FUZZ_OUT)/qcow2-fuzz -max_total_time=$(FUZZ_TIME) -timeout=10 \
		-rss_limit_mb=2048 -close_fd_mask=2 \
		-artifact_prefix=$(FUZZ_OUT)/ $(FUZZ_OUT)/corpus \
		$(FUZZ_OUT)/seeds fuzz/corpus/qcow2
.PHONY: fuzz

# The GDB stub's packet layer and session (gdbstub_fuzz.c): `make fuzz-gdb`
# fuzzes it; `make check` replays fuzz/corpus/gdbstub with seeded
# mutations (tests/gdb/fuzz-replay.sh).
$(B)/tests/gdb-fuzz-replay: $(B)/fuzz/replay.o $(B)/fuzz/gdbstub_fuzz.o \
		$(B)/libvmm.a $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

GDB_FUZZ_SRCS := fuzz/gdbstub_fuzz.c src/vmm/gdbstub.c
$(FUZZ_OUT)/gdbstub-fuzz: $(GDB_FUZZ_SRCS) src/vmm/gdbstub.h src/cpu/cpu.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc \
		-fsanitize=fuzzer,address,undefined -o $@ $(GDB_FUZZ_SRCS)
fuzz-gdb: $(FUZZ_OUT)/gdbstub-fuzz
	@mkdir -p $(FUZZ_OUT)/corpus-gdb
	$(FUZZ_OUT)/gdbstub-fuzz -max_total_time=$(FUZZ_TIME) -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix=$(FUZZ_OUT)/ \
		$(FUZZ_OUT)/corpus-gdb fuzz/corpus/gdbstub
.PHONY: fuzz-gdb

# The display's HTTP request parser (http_fuzz.c): `make fuzz-http`
# fuzzes it; `make check` replays fuzz/corpus/http with seeded mutations
# (tests/display/fuzz-replay.sh).
$(B)/tests/display-fuzz-replay: $(B)/fuzz/replay.o $(B)/fuzz/http_fuzz.o \
		$(B)/src/display/http.o $(B)/liblib.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^

HTTP_FUZZ_SRCS := fuzz/http_fuzz.c src/display/http.c src/lib/log.c
$(FUZZ_OUT)/http-fuzz: $(HTTP_FUZZ_SRCS) src/display/http.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -std=gnu11 -g -O1 -D_GNU_SOURCE -Isrc \
		-fsanitize=fuzzer,address,undefined -o $@ $(HTTP_FUZZ_SRCS)
fuzz-http: $(FUZZ_OUT)/http-fuzz
	@mkdir -p $(FUZZ_OUT)/corpus-http
	$(FUZZ_OUT)/http-fuzz -max_total_time=$(FUZZ_TIME) -timeout=10 \
		-rss_limit_mb=2048 -artifact_prefix=$(FUZZ_OUT)/ \
		$(FUZZ_OUT)/corpus-http fuzz/corpus/http
.PHONY: fuzz-http
