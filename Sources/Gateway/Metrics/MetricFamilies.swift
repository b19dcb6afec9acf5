import MetricsEndpoint

/// Every family the daemon exposes (README, "Metrics"): names `edgegw_*`, units in the name,
/// `_total` for counters. Histograms are named beside the code that records them
/// (`ModbusBus.responseTimeMetric`, `OutboxPump.ackLatencyMetric`, `LwM2MService.registerToObserveMetric`).
enum MetricFamilies {
    static let buildInfo = MetricFamily("edgegw_build_info", .gauge, "Always 1; the labels name edgegw's version and the C libraries it runs with.")

    // Cloud link and outbox.
    static let cloudConnected = MetricFamily("edgegw_cloud_connected", .gauge, "1 while the MQTT connection to the cloud is up, else 0.")
    static let cloudConnects = MetricFamily("edgegw_cloud_connects_total", .counter, "MQTT connections the broker accepted.")
    static let cloudConnectFailures = MetricFamily("edgegw_cloud_connect_failures_total", .counter,
                                                   "Connection attempts that did not connect, by reason (refused by the broker, unreachable).")
    static let cloudDisconnects = MetricFamily("edgegw_cloud_disconnects_total", .counter,
                                               "MQTT connections that ended, by reason (normal, keepalive_timeout, connection_lost, protocol_error).")
    static let cloudPublishes = MetricFamily("edgegw_cloud_publishes_total", .counter, "PUBLISHes handed to the connection, replays included.")
    static let cloudPubacks = MetricFamily("edgegw_cloud_pubacks_total", .counter, "PUBACKs received.")
    static let cloudReplays = MetricFamily("edgegw_cloud_replays_total", .counter, "PUBLISHes of rows sent before without a PUBACK.")
    static let outboxRows = MetricFamily("edgegw_outbox_rows", .gauge, "Messages waiting in the outbox (stored and held in memory).")
    static let outboxBytes = MetricFamily("edgegw_outbox_bytes", .gauge, "Payload bytes stored in the outbox.")
    static let outboxOldestAge = MetricFamily("edgegw_outbox_oldest_row_age_seconds", .gauge, "Age of the oldest message waiting in the outbox; 0 when empty.")
    static let outboxInFlight = MetricFamily("edgegw_outbox_in_flight", .gauge, "PUBLISHes waiting for their PUBACK.")
    static let outboxDrops = MetricFamily("edgegw_outbox_dropped_total", .counter,
                                          "Messages dropped unsent, by reason (bound: the byte bound; storage: the store failed; rejected: never publishable).")

    // Children.
    static let children = MetricFamily("edgegw_children", .gauge, "Children in the registry by kind and status.")
    static let childOnline = MetricFamily("edgegw_child_online", .gauge,
                                          "1 while a child is ONLINE; one series per child up to [metrics] max_child_series.")
    static let childSeriesOmitted = MetricFamily("edgegw_child_series_omitted", .gauge,
                                                 "Children beyond [metrics] max_child_series: counted in the totals only.")

    // Modbus, per bus.
    static let modbusRequests = MetricFamily("edgegw_modbus_requests_total", .counter, "Modbus requests sent, reads and writes.")
    static let modbusResponses = MetricFamily("edgegw_modbus_responses_total", .counter, "Modbus requests answered with data.")
    static let modbusTimeouts = MetricFamily("edgegw_modbus_timeouts_total", .counter, "Modbus requests without an answer within the response timeout.")
    static let modbusCRCErrors = MetricFamily("edgegw_modbus_crc_errors_total", .counter, "Modbus answers with a bad CRC.")
    static let modbusExceptions = MetricFamily("edgegw_modbus_exceptions_total", .counter, "Modbus exception responses by exception code.")
    static let modbusBadResponses = MetricFamily("edgegw_modbus_bad_responses_total", .counter,
                                                 "Modbus answers that do not fit the request (short, wrong unit or function).")
    static let modbusConnectionErrors = MetricFamily("edgegw_modbus_connection_errors_total", .counter,
                                                     "Failed connects, resets and unusable serial ports.")
    static let modbusDeviceOnline = MetricFamily("edgegw_modbus_device_online", .gauge,
                                                 "1 while a Modbus device answers, else 0; up to [metrics] max_child_series devices.")
    static let modbusValuesReplaced = MetricFamily("edgegw_modbus_values_replaced_total", .counter,
                                                   "Readings replaced by newer ones before they were reported.")

    // Serial devices, per port.
    static let serialPortOpen = MetricFamily("edgegw_serial_port_open", .gauge, "1 while the serial port is open, 0 while it is gone (unplugged) or cannot be opened.")
    static let serialBytes = MetricFamily("edgegw_serial_bytes_total", .counter, "Bytes read from and written to the serial port.")
    static let serialFrames = MetricFamily("edgegw_serial_frames_total", .counter, "Frames whose checksum and layout held: the only ones decoded.")
    static let serialFrameErrors = MetricFamily("edgegw_serial_frame_errors_total", .counter,
                                                "Candidate frames rejected (checksum, oversized length, truncated, malformed) and good frames not used (undecodable, unknown address, echo mismatch).")
    static let serialResyncs = MetricFamily("edgegw_serial_resyncs_total", .counter, "Runs of bytes dropped to find the next frame (noise, cut frames).")
    static let serialRequests = MetricFamily("edgegw_serial_requests_total", .counter, "Requests written: polls, commands, property gets.")
    static let serialTimeouts = MetricFamily("edgegw_serial_timeouts_total", .counter, "Requests not answered within their timeout.")
    static let serialPortLost = MetricFamily("edgegw_serial_port_lost_total", .counter, "Times the port vanished or failed and was closed to be reopened.")
    static let serialDeviceOnline = MetricFamily("edgegw_serial_device_online", .gauge, "1 while the serial device answers (polled) or reports (unsolicited), else 0.")
    static let serialReportsDropped = MetricFamily("edgegw_serial_reports_dropped_total", .counter,
                                                   "Reports dropped because they came faster than the cloud side took them.")

    // NB-IoT (LwM2M server and service).
    static let nbiotHandshakes = MetricFamily("edgegw_nbiot_handshakes_total", .counter,
                                              "DTLS handshakes by outcome (completed; failed: wrong key or lost peer; unknown_identity).")
    static let nbiotRegistrations = MetricFamily("edgegw_nbiot_registrations_total", .counter, "LwM2M Register requests by outcome.")
    static let nbiotUpdates = MetricFamily("edgegw_nbiot_updates_total", .counter, "LwM2M registration updates.")
    static let nbiotRegistrationsEnded = MetricFamily("edgegw_nbiot_registrations_ended_total", .counter,
                                                      "Registrations that ended, by reason (deregistered, expired).")
    static let nbiotNotifications = MetricFamily("edgegw_nbiot_notifications_total", .counter, "Observe notifications received.")
    static let nbiotUplinksDropped = MetricFamily("edgegw_nbiot_uplinks_dropped_total", .counter,
                                                  "Uplinks dropped because the service was too far behind the server.")
    static let nbiotSessions = MetricFamily("edgegw_nbiot_sessions_open", .gauge, "DTLS/CoAP sessions open.")
    static let nbiotCommands = MetricFamily("edgegw_nbiot_commands_total", .counter, "NB-IoT commands finished, by final state.")

    // Upgrades and bootstrap.
    static let upgradeTasks = MetricFamily("edgegw_upgrade_tasks", .gauge, "Upgrade tasks in progress by state.")
    static let upgradeFinished = MetricFamily("edgegw_upgrade_tasks_finished_total", .counter, "Upgrade tasks finished by outcome.")
    static let upgradeFragments = MetricFamily("edgegw_upgrade_fragments_served_total", .counter, "PCP fragments served to devices.")
    static let upgradeBytes = MetricFamily("edgegw_upgrade_served_bytes_total", .counter, "Package bytes served to devices.")
    static let packageCacheBytes = MetricFamily("edgegw_package_cache_bytes", .gauge, "Bytes of upgrade packages in the cache.")
    static let bootstraps = MetricFamily("edgegw_bootstraps_total", .counter,
                                         "LwM2M bootstraps by outcome (finished, or the failure's cause).")
    static let bootstrapLoops = MetricFamily("edgegw_bootstrap_loops_total", .counter, "Devices found bootstrapping again and again.")
}
