import Dispatch
import Foundation
import Glibc
import Hub
import RESTBridge

/// hubd: reads the configuration, builds the server, serves until SIGINT/SIGTERM, then drains.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.contains("--help") || arguments.contains("-h") {
    print(HubConfiguration.helpText)
    exit(0)
}

let configuration: HubConfiguration
do {
    configuration = try HubConfiguration.load(environment: ProcessInfo.processInfo.environment, arguments: arguments)
} catch {
    FileHandle.standardError.write(Data("hubd: configuration error: \(error.description)\n".utf8))
    exit(2)
}

signal(SIGPIPE, SIG_IGN)
let logger = Logger(level: configuration.logLevel)
let app: HubApplication
do {
    app = try HubApplication(configuration: configuration, logger: logger)
} catch {
    FileHandle.standardError.write(Data("hubd: cannot load the event catalogue: \(error)\n".utf8))
    exit(1)
}

let server: Server
do {
    try app.prepareDatabase()
    app.startOutbox()
    server = try app.makeServer()
    try app.startBus(address: "\(configuration.host):\(server.port)")
} catch {
    logger.error("cannot start", [("error", .string("\(error)"))])
    logger.flush()
    FileHandle.standardError.write(Data("hubd: cannot start: \(error)\n".utf8))
    exit(1)
}

let stopped = DispatchSemaphore(value: 0)
var signalSources: [DispatchSourceSignal] = []
for signalNumber in [SIGINT, SIGTERM] {
    signal(signalNumber, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
    source.setEventHandler { @Sendable in stopped.signal() }
    source.resume()
    signalSources.append(source)
}

server.start()
logger.info("hubd started", [
    ("host", .string(configuration.host)), ("port", .int(Int64(server.port))),
    ("threads", .int(Int64(server.loops.count))), ("version", .string(HealthRoutes.version)),
])
stopped.wait()
logger.info("hubd stopping: draining connections")
app.stopBus()
server.stop(graceMillis: 5000)
logger.info("hubd stopped")
logger.flush()
exit(0)
