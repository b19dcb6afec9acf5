/// Makes a SQLite database full with its page limit, and gives it room again: a full disk as
/// SQLite reports it (error 13), without root. Pages already in use keep their free room, so
/// only a row larger than a page (4 KiB) is sure to be refused.
public struct PageLimit {
    /// Runs one statement on the database's writer connection (`StateStore.writerExecute`).
    let execute: (String) throws -> Int?

    public init(execute: @escaping (String) throws -> Int?) {
        self.execute = execute
    }

    /// A limit at the database's size, then rows until none fits.
    public func fill() throws {
        _ = try execute("CREATE TABLE IF NOT EXISTS test_filler (b BLOB NOT NULL)")
        let pages = try execute("PRAGMA page_count") ?? 1
        _ = try execute("PRAGMA max_page_count = \(pages)")
        for size in [4000, 1000, 200, 50, 10, 1] {
            while true {
                do { _ = try execute("INSERT INTO test_filler VALUES (zeroblob(\(size)))") } catch { break }
            }
        }
    }

    public func free() throws {
        _ = try execute("PRAGMA max_page_count = 1073741823")
    }
}
