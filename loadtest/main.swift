import Foundation
import Glibc
import Hub

/// loadtest: drives a running hubd over real sockets and reports figures.
let usage = """
    loadtest: load generator for hubd (release builds; see `make bench`).
    Usage: loadtest <scenario> [--host 127.0.0.1] [--port 8000] [--threads 2] [options]
      idle          --connections N --seconds T     N authenticated sessions held with heartbeats [--pid P]
      fanout        --connections N --messages M    M broadcast events over REST [--rate R/s, default a burst]
      targeted      --connections N --rate R --seconds T   events to random users over REST
                    [--fresh-database]              empty the hub's tables first (as a new deployment)
                    [--find-max]                    steps of --step-seconds (10) from --rate, x1.25 each, until
                                                    p99 passes --max-p99-ms (50); reports the highest rate held
      bulk          --connections N --rate R --seconds T [--events-per-request 100]
                                                    R requests/s to /api/v1/events/bulk/, each event to a random user
      churn         --connections C --seconds T     connect (JWT) / connected / close, C slots in parallel
        [--nodes h:p,h:p,…]                         a cluster: sessions spread over the nodes (worker i on node i mod N,
                                                    figures per node too); events posted [--post-to round-robin | 1..N]
        these need --database-url URL --jwt-secret S --service-key K (the hub's own); their
        sessions live in worker processes, as many as the descriptor limit needs [--processes P]
      ws-echo       --connections C --seconds T     round trips on /ws/echo/ (hubd with HUB_ENABLE_ECHO=1)
      ws-churn      --connections C --seconds T     upgrade on /ws/echo/ and close, C slots (the raw rate beside churn)
      ws-broadcast  --connections N --messages M    one publisher, N receivers on /ws/broadcast/
                    [--pid P]                       also report the server's memory per connection
                    [--message-bytes B]             size of each message (default 40)
    Latency figures are also printed per 10-second window (by the time each event was posted; [--window S]).
    Every scenario runs as SCHED_BATCH so its wake-ups do not preempt hubd ([--interactive] not).
    HTTP keep-alive throughput: loadtest/scripts/http-bench.sh (wrk).
    """

var arguments = Array(CommandLine.arguments.dropFirst())
let hubScenarios = ["idle", "fanout", "targeted", "bulk", "churn"]
let scenarios = hubScenarios + ["ws-echo", "ws-churn", "ws-broadcast"]
// `loadtest worker <scenario> …`: a session-holding process started by the parent (WorkerFleet).
let isWorker = arguments.first == "worker"
if isWorker { arguments.removeFirst() }
guard let scenario = arguments.first, scenarios.contains(scenario) else {
    print(usage)
    exit(arguments.isEmpty || ["--help", "-h", "help"].contains(arguments[0]) ? 0 : 2)
}
signal(SIGPIPE, SIG_IGN)
let options = Options.parse(Array(arguments.dropFirst()))
// The generator shares the machine with hubd; clients elsewhere would never take hubd's CPU away.
// As SCHED_BATCH (inherited by every thread and worker process) its wake-ups on each received
// frame do not preempt hubd mid-write; it still gets its share of CPU. `--interactive` keeps the
// normal policy (to compare).
if !options.interactive {
    var parameters = sched_param(sched_priority: 0)
    let schedBatch: Int32 = 3  // SCHED_BATCH in <sched.h>, which Glibc's module does not export
    if sched_setscheduler(0, schedBatch, &parameters) != 0, !isWorker {
        say("loadtest: could not run as SCHED_BATCH (errno \(errno)); figures include its preemption of hubd")
    }
}
// Whoever holds the connections needs a descriptor each: raise the soft limit up to the hard one.
if isWorker || !hubScenarios.contains(scenario) {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    if Int(limit.rlim_cur) < options.connections + 100 {
        limit.rlim_cur = min(limit.rlim_max, rlim_t(options.connections + 1000))
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
    if Int(limit.rlim_cur) < options.connections + 100 {
        say("loadtest: \(options.connections) connections need \(options.connections + 100) descriptors; this process may open "
            + "\(limit.rlim_cur) (hard limit \(limit.rlim_max))\(isWorker ? "" : "; the hub scenarios spread them over processes"))")
        exit(2)
    }
}
let loops = try (0..<options.threads).map { try EventLoop(index: $0) }
for loop in loops { loop.start() }
let node = options.node(ofWorker: isWorker ? options.workerIndex : 0)
let target = try SocketAddress.resolve(host: node.host, port: node.port)
let factory = ClientFactory(loops: loops, target: target, host: node.host)
let context = HubScenarios.Context(options: options, loops: loops, factory: factory,
                                   setup: HubSetup(databaseURL: options.databaseURL, secret: options.jwtSecret))
if hubScenarios.contains(scenario)
    && (options.databaseURL.isEmpty || options.jwtSecret.isEmpty
        || (options.serviceKey.isEmpty && ["fanout", "targeted", "bulk"].contains(scenario)))
{
    say("loadtest: \(scenario) needs --database-url, --jwt-secret and (for events) --service-key of the hub under test")
    exit(2)
}
do {
    if isWorker {
        try SessionWorker.run(scenario, context)
        exit(0)
    }
    switch scenario {
    case "idle": try HubScenarios.idle(context)
    case "fanout": try HubScenarios.fanout(context)
    case "targeted": try HubScenarios.targeted(context)
    case "bulk": try HubScenarios.bulk(context)
    case "churn": try HubScenarios.churn(context)
    case "ws-echo": Scenarios.echo(options, loops: loops, factory: factory)
    case "ws-churn": Scenarios.churn(options, factory: factory)
    default: Scenarios.broadcast(options, loops: loops, factory: factory)
    }
} catch {
    say("loadtest: \(error)")
    exit(1)
}
exit(0)
