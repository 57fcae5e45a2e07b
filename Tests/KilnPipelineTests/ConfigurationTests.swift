import Foundation
import KilnCore
import KilnPipeline
import KilnTestSupport
import Testing

@Suite struct ConfigurationTests {
    @Test func defaultsAreDocumented() throws {
        let configuration = try KilnConfiguration.fromEnvironment([:])
        #expect(configuration.storage == .local && configuration.dataDirectory == "./kiln-data")
        #expect(configuration.localRoot == "./kiln-data/media")
        #expect(configuration.preset == "default" && configuration.timeout == .seconds(600))
        #expect(configuration.jobMemoryBudget == 2 << 30)
        let limits = configuration.limits
        #expect(limits.jobs == ExecutionLimits.cores && limits.queueDepth == limits.jobs * 4)
        #expect(limits.threadsPerJob == ExecutionLimits.cores, "a lone job gets every core")
        #expect(limits.memoryBudget >= configuration.jobMemoryBudget)
        try configuration.validate()
    }

    @Test func environmentSetsEveryValue() throws {
        let configuration = try KilnConfiguration.fromEnvironment([
            "KILN_DATA": "/srv/kiln", "KILN_OUT": "/srv/out", "KILN_PRESET": "x", "KILN_TIMEOUT": "2.5",
            "KILN_MEMORY_BUDGET_MB": "512", "KILN_MEMORY_LIMIT_MB": "4096", "KILN_JOBS": "3", "KILN_QUEUE": "0",
            "KILN_THREADS": "2",
        ])
        #expect(configuration.dataDirectory == "/srv/kiln" && configuration.localRoot == "/srv/out")
        #expect(configuration.preset == "x" && configuration.timeout == .milliseconds(2500))
        #expect(configuration.jobMemoryBudget == 512 << 20)
        #expect(configuration.limits == ExecutionLimits(jobs: 3, queueDepth: 0, threadsPerJob: 2, memoryBudget: 4096 << 20))
        #expect(configuration.ingestOptions.memoryBudget == 512 << 20 && configuration.ingestOptions.preset == "x")
        try configuration.validate()
    }

    @Test(arguments: [("KILN_TIMEOUT", "soon"), ("KILN_JOBS", "0"), ("KILN_QUEUE", "-1"), ("KILN_THREADS", "two"),
                      ("KILN_MEMORY_BUDGET_MB", "-5")])
    func unreadableValuesAreAPI_001NamingTheVariable(name: String, value: String) {
        #expect {
            try KilnConfiguration.fromEnvironment([name: value])
        } throws: { error in
            let error = error as? KilnError
            return error?.code == .api001 && error?.message.contains(name) == true
        }
    }

    @Test func inconsistentSettingsFailValidation() throws {
        var configuration = try KilnConfiguration.fromEnvironment([:])
        configuration.memoryBudget = 1 << 20
        #expect(throws: KilnError.self) { try configuration.validate() }
        configuration = try KilnConfiguration.fromEnvironment(["KILN_PRESET": "no-such-preset"])
        #expect { try configuration.validate() } throws: { ($0 as? KilnError)?.details["fields"]?["preset"] != nil }
        #expect { try KilnConfiguration.fromEnvironment(["KILN_STORAGE": "r2"]) } throws: {
            ($0 as? KilnError)?.code == .file007
        }
        #expect { try KilnConfiguration.fromEnvironment(["KILN_STORAGE": "ftp"]) } throws: {
            ($0 as? KilnError)?.code == .file007
        }
    }

    @Test func aConfiguredPipelineUsesItsDirectoriesAndLimits() async throws {
        let data = Fixtures.scratchDirectory()
        defer { Fixtures.cleanUp(data) }
        var configuration = try KilnConfiguration.fromEnvironment(["KILN_DATA": data, "KILN_JOBS": "1", "KILN_QUEUE": "0"])
        configuration.threadsPerJob = 1
        let pipeline = try await configuration.makePipeline()
        #expect(pipeline.places.limits.jobs == 1 && pipeline.places.limits.queueDepth == 0)
        #expect(pipeline.temporaryDirectory == data + "/tmp")
        let item = try await pipeline.ingest(path: Fixtures.sample("small.jpg"), options: configuration.ingestOptions)
        #expect(item.location == data + "/media/" + item.id)
    }
}
