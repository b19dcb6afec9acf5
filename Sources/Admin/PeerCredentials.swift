import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Who may use the admin socket: root, the daemon's own user, and members (primary or
/// supplementary) of the daemon's group or of the `edgegw` group. The socket file's mode (0660)
/// keeps others out already; the peer's credentials are checked too, so a socket file made
/// wider by hand still refuses them.
struct PeerPolicy: Sendable {
    let uid: UInt32
    let groups: Set<UInt32>

    static func current(group: String) -> PeerPolicy {
        var groups: Set<UInt32> = [getegid()]
        if let gid = groupId(named: group) { groups.insert(gid) }
        return PeerPolicy(uid: geteuid(), groups: groups)
    }

    static func groupId(named name: String) -> UInt32? {
        guard let entry = getgrnam(name) else { return nil }
        return entry.pointee.gr_gid
    }

    /// Nil when the peer may talk to the daemon; otherwise why not.
    func refusal(of peer: PeerCredentials) -> String? {
        if peer.uid == 0 || peer.uid == uid || groups.contains(peer.gid) { return nil }
        if !groups.isDisjoint(with: peer.supplementaryGroups()) { return nil }
        return "permission denied: uid \(peer.uid) is not root, the daemon's user or a member of its group; run as root or add the user to group \(GatewayAdminNames.group)"
    }
}

enum GatewayAdminNames {
    static let group = "edgegw"
}

/// SO_PEERCRED of a connected Unix socket.
struct PeerCredentials: Sendable, Equatable {
    var pid: Int32
    var uid: UInt32
    var gid: UInt32

    /// Linux's `SO_PEERCRED` (asm-generic; the same on x86-64 and arm64).
    private static let peerCredOption: Int32 = 17

    static func of(socket fd: Int32) -> PeerCredentials? {
        // struct ucred { pid_t pid; uid_t uid; gid_t gid; }: three 32-bit fields.
        var raw: (Int32, UInt32, UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: raw))
        guard getsockopt(fd, SOL_SOCKET, peerCredOption, &raw, &length) == 0,
              Int(length) == MemoryLayout.size(ofValue: raw) else { return nil }
        return PeerCredentials(pid: raw.0, uid: raw.1, gid: raw.2)
    }

    /// The peer's supplementary groups, from /proc (empty when they cannot be read).
    func supplementaryGroups() -> Set<UInt32> {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Groups:") }) else { return [] }
        return Set(line.dropFirst("Groups:".count).split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap { UInt32($0) })
    }
}
