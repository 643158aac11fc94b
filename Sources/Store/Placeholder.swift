public enum StoreInfo { public static var migrationCount: Int { EmbeddedSQL.migrations.count } }
