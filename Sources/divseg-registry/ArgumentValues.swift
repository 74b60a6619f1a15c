import ArgumentParser
import DivSeg
import DivSegExperiments
import DivSegIO

// The library's option enums, parsed by ArgumentParser itself: `--help` lists their values
// and a wrong value is refused with them, without a hand-written check per command.
extension HDF5Storage: @retroactive ExpressibleByArgument {}
extension SamplingStrategy: @retroactive ExpressibleByArgument {}
extension DenseBackground: @retroactive ExpressibleByArgument {}
extension LocalizerKind: @retroactive ExpressibleByArgument {}
extension LocalizerLoss: @retroactive ExpressibleByArgument {}
extension LocalizerScore: @retroactive ExpressibleByArgument {}
extension OracleSampler.Strategy: @retroactive ExpressibleByArgument {}
