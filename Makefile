# Two commands do all setup on a fresh machine (Debian, Swift 6.3 at /opt/swift):
#   make demo   the main job (installs system packages if missing, builds release, runs it)
#   make test   the test suite (installs, builds, runs swift test)
APT_PACKAGES := libsqlite3-dev libdnnl-dev pkg-config zlib1g-dev sqlite3 python3 chromium dataset-fashion-mnist
SWIFT ?= swift
DB ?= tlens.sqlite

.PHONY: deps build release demo test slurm-e2e bench clean

# Idempotent: installs only what dpkg does not already report as installed.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  (apt-get update -qq || true) && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: release
	.build/release/tlens demo --db $(DB)

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --disable-swift-testing

# A sweep as a Slurm job array on a one-node cluster this target brings up and down
# (installs slurm-wlm's daemons and munge with apt if missing; docs/cluster.md).
slurm-e2e: deps
	$(SWIFT) build
	bash scripts/slurm-e2e.sh .build/debug/tlens

bench: release
	.build/release/tlens bench store
	.build/release/tlens bench train
	.build/release/tlens bench lens
	.build/release/tlens bench checkpoint
	.build/release/tlens bench gbt

clean:
	rm -rf .build
