extension LwM2MService {
    /// What the service has handled since it started.
    public struct Stats: Sendable, Equatable {
        public var reports = 0
        /// PCP frames from devices (to the upgrade side, or dropped without one).
        public var pcpFramesUp = 0
        /// PCP frames sent to devices (`sendPCP` that found the device registered).
        public var pcpFramesDown = 0
        /// PCP writes not delivered: device unknown or unregistered, no session, no ACK, refused.
        public var pcpSendFailures = 0
        /// Object 4 resources read (answered with a value).
        public var radioReads = 0
        public var undecodable = 0
        public var reportResponses = 0
        public var commandsFinished = 0
        /// Finished commands by the state they ended in (SUCCESSFUL, FAILED, TIMEOUT, EXPIRED).
        public var commandsByFinalState: [CommandState: Int] = [:]
        public var lateCommandResults = 0
        /// PCP frames from devices (`pcpFramesUp`).
        public var pcpFrames: Int { pcpFramesUp }
    }
}
