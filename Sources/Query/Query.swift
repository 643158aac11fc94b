// The Query layer (docs/query.md): everything tlens computes from what is stored — derived
// metrics, comparisons across runs and sweeps, named and saved queries, plots and reports. It
// reads through Store and never trains; only `--save` writes (the `analyses` table).
import Store
