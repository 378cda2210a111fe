import Foundation
import Hub

/// loadtest: drives a running hubd over real sockets. Scenarios arrive with the load-test issue;
/// for now `make bench` uses `loadtest/scripts/http-bench.sh` (wrk) for HTTP throughput.
let usage = """
    loadtest: load generator for hubd.
    Usage: loadtest <scenario> [options]
    Scenarios: (none yet; see loadtest/scripts/http-bench.sh for HTTP keep-alive throughput)
    """
print(usage)
exit(CommandLine.arguments.count > 1 ? 2 : 0)
