import ArgumentParser
import LwM2MSimulator

/// The storm's devices as the daemon's NB-IoT device list (`[paths] nbiot_devices`), each with its
/// connection key, so a storm can run against the `edgegw` daemon itself.
struct DeviceList: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the storm devices as an NB-IoT device list (CSV, keys included).")
    @OptionGroup var options: StormOptions
    @Option(help: "Product id of every device (products/<id>.toml in the daemon's configuration).") var product = "water-meter"

    func run() {
        print("nodeId,name,productId,strategyTypeId,funcName,psk,bootstrapPsk,secure,lifeTime,secret")
        for index in 0..<options.devices {
            let imei = StormDevices.endpoint(firstIMEI: options.firstImei, index: index)
            print("\(imei),storm-\(index),\(product),0,,\(StormDevices.psk(seed: options.seed, index: index)),,DTLS,86400,")
        }
    }
}
