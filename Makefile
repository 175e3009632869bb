# Tandem: SIP-to-PSTN gateway. See README.md.
#
# Sources are found by convention, so adding a module needs no Makefile edit:
#   gateway/ tdm/ media/ provisioning/ : library code (all *.c except bin/)
#   */bin/NAME.c                       : program -> build/NAME
#   tests/unit/test_NAME.c             : cmocka test -> build/tests/test_NAME
#                                        (and build/asan/tests/test_NAME)
#   tests/fuzz/fuzz_NAME.c             : libFuzzer target -> build/fuzz/fuzz_NAME
#   tests/bench/bench_NAME.c           : benchmark -> build/bench/bench_NAME

CC       ?= gcc
CC       := $(if $(filter default,$(origin CC)),gcc,$(CC))
FUZZCC   ?= clang
PYTHON   ?= /usr/bin/python3
PKGS     := yaml-0.1 openssl libcares sqlite3 libsrtp2 spandsp speexdsp
CSTD     := -std=c17 -D_GNU_SOURCE
WARN     := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter -Wstrict-prototypes
CFLAGS   ?= -O2 -g
CPPFLAGS := -I. -Igateway -MMD -MP
ALL_CFLAGS = $(CSTD) $(WARN) $(CFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpri -lpthread -lm
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

B        := build
MODDIRS  := gateway tdm media provisioning
LIB_SRCS := $(shell find $(MODDIRS) -name '*.c' -not -path '*/bin/*' 2>/dev/null | sort)
BIN_SRCS := $(shell find $(MODDIRS) -path '*/bin/*.c' 2>/dev/null | sort)
UT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
FUZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz_*.c))
BEN_SRCS := $(sort $(wildcard tests/bench/bench_*.c))
UT_HELP  := $(filter-out tests/unit/test_%,$(wildcard tests/unit/*.c))

LIB_OBJS   := $(LIB_SRCS:%.c=$(B)/obj/%.o)
ASAN_OBJS  := $(LIB_SRCS:%.c=$(B)/asan/obj/%.o)
FUZZ_OBJS  := $(LIB_SRCS:%.c=$(B)/fuzzobj/%.o)
BINS       := $(foreach s,$(BIN_SRCS),$(B)/$(basename $(notdir $(s))))
UNIT       := $(UT_SRCS:tests/unit/%.c=$(B)/tests/%)
UNIT_ASAN  := $(UT_SRCS:tests/unit/%.c=$(B)/asan/tests/%)
FUZZERS    := $(FUZ_SRCS:tests/fuzz/%.c=$(B)/fuzz/%)
BENCHES    := $(BEN_SRCS:tests/bench/%.c=$(B)/bench/%)

# Extra libraries for a few targets.
BENCH_LIBS_bench_sip_parse := $(shell pkg-config --libs libosip2 sofia-sip-ua 2>/dev/null)
BENCH_CFLAGS_bench_sip_parse := $(shell pkg-config --cflags libosip2 sofia-sip-ua 2>/dev/null)

.PHONY: all check run bench fuzz deps clean unit unit-asan e2e e2e-asan fuzz-smoke tests
all: $(BINS)

deps:
	@sh packaging/deps.sh

$(B)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c $< -o $@

$(B)/asan/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(SAN) -c $< -o $@

$(B)/fuzzobj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZCC) $(CPPFLAGS) $(CSTD) -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
		$(shell pkg-config --cflags $(PKGS) 2>/dev/null) -fsanitize=fuzzer-no-link,address,undefined -c $< -o $@

$(B)/libtandem.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(B)/asan/libtandem.a: $(ASAN_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

$(B)/fuzz/libtandem.a: $(FUZZ_OBJS)
	@mkdir -p $(@D)
	@rm -f $@
	ar rcs $@ $^

define bin_rule
$(B)/$(basename $(notdir $(1))): $(B)/obj/$(basename $(1)).o $(B)/libtandem.a
	$$(CC) $$(ALL_CFLAGS) -o $$@ $$^ $$(LDLIBS)
$(B)/asan/$(basename $(notdir $(1))): $(B)/asan/obj/$(basename $(1)).o $(B)/asan/libtandem.a
	$$(CC) $$(ALL_CFLAGS) $$(SAN) -o $$@ $$^ $$(LDLIBS)
endef
$(foreach s,$(BIN_SRCS),$(eval $(call bin_rule,$(s))))

UT_HELP_OBJS      := $(UT_HELP:%.c=$(B)/obj/%.o)
UT_HELP_ASAN_OBJS := $(UT_HELP:%.c=$(B)/asan/obj/%.o)

$(B)/tests/%: $(B)/obj/tests/unit/%.o $(UT_HELP_OBJS) $(B)/libtandem.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) -lcmocka

$(B)/asan/tests/%: $(B)/asan/obj/tests/unit/%.o $(UT_HELP_ASAN_OBJS) $(B)/asan/libtandem.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $^ $(LDLIBS) -lcmocka

$(B)/fuzz/%: tests/fuzz/%.c $(B)/fuzz/libtandem.a
	@mkdir -p $(@D)
	$(FUZZCC) $(CPPFLAGS) $(CSTD) -g -O1 -Wall -Wextra -Werror -Wno-unused-parameter \
		-fsanitize=fuzzer,address,undefined -o $@ $(filter %.c %.a,$^) $(LDLIBS)

$(B)/bench/%: tests/bench/%.c $(B)/libtandem.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(BENCH_CFLAGS_$*) -o $@ $(filter %.c %.a,$^) $(LDLIBS) $(BENCH_LIBS_$*)

tests: $(BINS) $(UNIT) $(UNIT_ASAN)

unit: $(UNIT)
	@sh tests/run_unit.sh plain $(UNIT)

unit-asan: $(UNIT_ASAN)
	@sh tests/run_unit.sh asan $(UNIT_ASAN)

# Each fuzz target runs briefly over its committed corpus in `make check`;
# `make fuzz FUZZ_SECONDS=600` runs each for as long as asked.
FUZZ_SECONDS ?= 60
fuzz-smoke: $(FUZZERS)
	@sh tests/fuzz/run.sh smoke $(FUZZERS)

fuzz: deps $(FUZZERS)
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZERS)

e2e: $(BINS)
	@sh tests/run_e2e.sh

# The gateway's e2e tests against the programs built with ASan+UBSan.
ASAN_BINS := $(BINS:$(B)/%=$(B)/asan/%)
e2e-asan: $(ASAN_BINS)
	@sh tests/run_e2e_asan.sh

check: deps
	@$(MAKE) --no-print-directory tests $(FUZZERS)
	@$(MAKE) --no-print-directory unit unit-asan fuzz-smoke
	@$(MAKE) --no-print-directory e2e e2e-asan

bench: deps
	@$(MAKE) --no-print-directory $(BINS) $(BENCHES)
	@echo "== pritest: 1,000 calls over a virtual E1, then a T1 (audio and DTMF checked on each)"
	@build/pritest --calls 1000 --timeout 240
	@build/pritest --t1 --calls 1000 --timeout 240
	@sh tests/bench/run.sh $(BENCHES)

run: deps
	@$(MAKE) --no-print-directory all
	@sh provisioning/run-demo.sh

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
