# tests/guest: whole-guest boots (Debian's kernel fetched by package name),
# run against the v2e of the same build.
guest_TESTS := $(patsubst tests/guest/%.sh,$(B)/tests/guest-%.t,$(wildcard tests/guest/*.sh))
TESTS += $(guest_TESTS)

$(guest_TESTS): $(B)/tests/guest-%.t: tests/guest/%.sh $(B)/v2e
	@mkdir -p $(dir $@)
	$(Q)cp $< $@ && chmod +x $@

# The display test drives the guest with v2e-screendump and reads its
# screen with screen-text.
$(B)/tests/guest-display.t: $(B)/tests/screen-text $(B)/v2e-screendump

# The browser test runs noVNC in headless Chromium (browser.py beside it)
# and reads the page's screenshot with screen-text.
$(B)/tests/guest-browser.t: $(B)/tests/screen-text $(B)/tests/browser.py
$(B)/tests/browser.py: tests/guest/browser.py
	@mkdir -p $(dir $@)
	$(Q)cp $< $@

# What the guest tests share (guest.inc), beside them in the build.
$(guest_TESTS): $(B)/tests/guest.inc
$(B)/tests/guest.inc: tests/guest/guest.inc
	@mkdir -p $(dir $@)
	$(Q)cp $< $@
