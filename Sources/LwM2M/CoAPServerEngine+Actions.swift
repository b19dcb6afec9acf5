import GatewayCore
import CCoAP
import Foundation
import Logging

// The core's actions as effects: CoAP answers, events to the async side, log lines, requests
// sent, sessions dropped (CoAP thread).
extension CoAPServerEngine {
    /// `response`: the answer of the request being handled, if any.
    func perform(_ actions: [Core.Action], response: OpaquePointer? = nil) {
        for action in actions {
            switch action {
            case .reply(let answer):
                if let response { reply(answer, response: response) }
            case .size1(let bytes):
                if let response { CoAPPDU.addSize1(response, bytes) }
            case .emit(let event):
                emit(event)
            case .log(let line):
                log(line)
            case .sendObserve(let nodeId, let path, let peer, let registeredAt):
                sendObserve(nodeId: nodeId, path: path, peer: peer, registeredAt: registeredAt)
            case .sendDownlink(let downlink, let path, let peer):
                sendDownlink(downlink, path: path, peer: peer)
            case .forward(let downlink):
                router.send(downlink, forwarded: true)
            case .dropSession(let session, _):
                dropSession(session)
            }
        }
    }

    /// Runs the work queued behind a reply: the Observe GET (the 513 budget).
    func flushAfterReply() {
        guard core.hasWorkAfterReply else { return }
        perform(core.takeObservesAfterReply(registrations: registrations))
    }

    func log(_ line: CoAPServerLogLine) {
        let level: Logger.Level = switch line.level {
        case .info: .info
        case .notice: .notice
        case .warning: .warning
        }
        let metadata = line.metadata.mapValues { Logger.MetadataValue.string($0) }
        if line.rateLimited {
            logRepeated(level, line.message, metadata: metadata)
        } else {
            logger.log(level: level, "\(line.message)", metadata: metadata)
        }
    }

    func reply(_ answer: Table.Reply, response: OpaquePointer) {
        switch answer {
        case .created(let id):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_CREATED)
            CoAPPDU.addOption(response, number: UInt16(COAP_OPTION_LOCATION_PATH), value: Array("rd".utf8))
            CoAPPDU.addOption(response, number: UInt16(COAP_OPTION_LOCATION_PATH), value: Array(id.utf8))
        case .changed:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_CHANGED)
        case .deleted:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_DELETED)
        case .badRequest(let text):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_BAD_REQUEST)
            CoAPPDU.addDiagnostic(response, text)
        case .forbidden(let text):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_FORBIDDEN)
            CoAPPDU.addDiagnostic(response, text)
        case .notFound:
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_NOT_FOUND)
        case .requestTooLarge(let text):
            coap_pdu_set_code(response, COAP_RESPONSE_CODE_REQUEST_TOO_LARGE)
            CoAPPDU.addDiagnostic(response, text)
        }
    }
}
