import Store
print("tlens skeleton: \(StoreInfo.migrationCount) migrations")
