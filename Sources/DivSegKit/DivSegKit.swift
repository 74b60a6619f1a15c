// The umbrella module: `import DivSegKit` gives an application the façade
// (`Backbone`, `ClassRegistry`, `SegmentationResult` in DivSegRegistry) and every type it
// returns or takes, from the layers below, without importing four modules.
@_exported import DivSegCore
@_exported import DivSegIO
@_exported import DivSegDatasets
@_exported import DivSeg
@_exported import DivSegRegistry
