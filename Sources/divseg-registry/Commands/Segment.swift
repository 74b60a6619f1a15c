import ArgumentParser
import DivSeg
import DivSegCore
import DivSegDatasets
import DivSegIO
import DivSegRegistry
import Foundation

extension DivSegRegistry {
    /// `divseg-registry segment IMAGE|FOLDER… [--out DIR]`: label PNGs, overlays with a
    /// legend, and on request masks, probability maps, per-image summaries and COCO results.
    struct Segment: ParsableCommand {
        /// Where results go without --out.
        static let defaultOut = "divseg-output"

        static let configuration = CommandConfiguration(
            abstract: "Segment images with the registry's segmenter.",
            discussion: """
                Per image, into --out: <name>.png (palette label map at the original size; pixel = \
                label id, 0 = background) and <name>_overlay.png (the labels blended over the image, \
                each region outlined, with a legend: colour, class, share of the image). Colours \
                follow label ids: VOC's for the 20 VOC classes, well-separated ones for the others. \
                A folder stands for the PNG and JPEG files in it (sorted; sub-folders with \
                --recursive). Two inputs that would write the same output file are refused before \
                anything is written. Prints each image's classes, largest first, with their share \
                of the image and mean confidence (the segmenter's probability for the class over \
                its pixels). Prediction rules (chosen on held-out train2017 images, see \
                docs/RESULTS.md): each class's localizer map, times 16, is added to its logit, \
                the background logit is lowered by 3 and a class winning less than 2 % of an \
                image is removed; --localizer-weight, --background-bias and --min-class-area \
                change them, --no-adjust gives the segmenter's plain argmax. The probabilities \
                are then refined by a dense CRF on the half-size image (its marginals enlarged \
                before the argmax; --crf-resolution 1 for every pixel, --no-crf for none; off \
                with --no-adjust unless --crf is given). --tta averages the \
                logits with the mirror image's (a second backbone run). With --tags (the image's \
                classes, when known) only those classes and background are labelled, background \
                lowered by 12; --tags-from takes each image's own tags from a dataset (a tags \
                CSV of path,tags, or a COCO or VOC folder). Exports: --masks writes <name>_mask_<class>.png (0/255) and \
                --probabilities <name>_prob_<class>.png (probability × 255) for every class \
                present; --summary writes <name>.json; --coco FILE writes COCO-style results \
                (image_id, category_id = label id, segmentation as compressed RLE, score = mean \
                confidence) for all images.
                """)

        @Argument(help: "PNG or JPEG images, or folders of them.") var images: [String]
        @Option(name: .shortAndLong, help: "Output folder.") var out: String = Segment.defaultOut
        @Flag(help: "Also take the images in sub-folders of a folder argument.") var recursive = false
        @Flag(help: "Write a binary mask PNG (0/255) per class present.") var masks = false
        @Flag(help: "Write a probability map PNG (probability × 255) per class present.") var probabilities = false
        @Flag(help: "Write a summary JSON per image (<name>.json: size, classes, areas, confidences).") var summary = false
        @Option(help: "Write COCO-style results JSON for all images to this file.") var coco: String?
        @Flag(help: "Print the per-image summaries as one JSON array instead of text.") var json = false
        @Flag(help: "Segment with a stale segmenter (after add or remove without retraining), with a warning: it labels only the classes it was trained for.")
        var allowStale = false
        @OptionGroup var registryOptions: RegistryOptions
        @OptionGroup var backbone: BackboneOptions
        @OptionGroup var crf: CRFOptions
        @OptionGroup var adjustmentOptions: AdjustmentOptions
        @Flag(help: "Test-time flip: average the segmenter's logits with the mirror image's (a second backbone run per image, about +0.3 s for 640×480).")
        var tta = false
        @Option(help: ArgumentHelp("The classes every input image is known to contain (comma-separated registry class names): only these and background are labelled, with the rules for tagged images.",
                                   valueName: "class,class"))
        var tags: String?
        @Option(name: .customLong("tags-from"),
                help: ArgumentHelp("Take each input image's tags from this dataset (tags:FILE.csv, coco:DIR or voc:DIR; matched by the image's path; tags that are not registry classes are ignored).",
                                   valueName: "dataset"))
        var tagsFrom: String?

        func validate() throws {
            if tags != nil && tagsFrom != nil {
                throw ValidationError("--tags gives every image the same tags and --tags-from each image its own: pass one of them.")
            }
            if let tags, tags.split(separator: ",").allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) {
                // An empty list would label every pixel background without a word.
                throw ValidationError("--tags '\(tags)' names no class: list the classes the images contain, e.g. --tags giraffe,person.")
            }
        }

        /// Each image's tags from a dataset, restricted to the registry's classes; every image
        /// must be in the dataset (matched by its resolved path), or nothing is segmented.
        static func tags(of images: [String], from spec: String, classes: Set<String>) throws -> [[String]] {
            func key(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path }
            var byPath: [String: Set<String>] = [:]
            for sample in try Dataset.open(spec: spec).samples { byPath[key(sample.imagePath)] = sample.tags }
            let missing = images.filter { byPath[key($0)] == nil }
            guard missing.isEmpty else {
                throw CommandFailure("\(missing.count) of the \(images.count) images have no entry in \(spec) (--tags-from), e.g. "
                    + missing.prefix(3).joined(separator: ", ")
                    + ": add them to the dataset, or segment them in a separate run without --tags-from.")
            }
            return images.map { byPath[key($0)]!.intersection(classes).sorted() }
        }

        /// The files written for one input image.
        struct Outputs {
            var stem: String
            var labels: String
            var overlay: String
            var summary: String
            func mask(_ name: String) -> String { sibling("_mask_" + name) }
            func probability(_ name: String) -> String { sibling("_prob_" + name) }
            private func sibling(_ suffix: String) -> String {
                String(labels.dropLast(4)) + suffix + ".png"
            }
        }

        /// One image's result in `--summary` and `--json`.
        struct ImageSummary: Encodable {
            struct ClassArea: Encodable {
                var name: String
                var label: Int
                var pixels: Int
                var area: Double
                var meanConfidence: Double
            }
            var image: String
            var width: Int
            var height: Int
            var labels: String
            var overlay: String
            var classes: [ClassArea]
        }

        /// One entry of the COCO results file.
        struct COCOResult: Encodable {
            struct RLE: Encodable { var size: [Int]; var counts: String }
            var image_id: Int
            var category_id: Int
            var segmentation: RLE
            var score: Double
            var file_name: String
        }

        func run() throws {
            let crfParameters = try crf.parameters(plain: adjustmentOptions.noAdjust)
            try Self.checkFolder(out)
            let images = try ImageInputs.expand(self.images, recursive: recursive)
            // Every output file, checked against every input and every other output before
            // anything is written (and before the registry is read): `segment coll/self.png
            // --out coll` must not replace the image with its label map, nor `a/x.png b/x.png`
            // (or `y.jpg y_overlay.png`) overwrite each other's results.
            let outputs = images.map { path in
                let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
                let base = (out as NSString).appendingPathComponent(stem)
                return Outputs(stem: stem, labels: base + ".png", overlay: base + "_overlay.png", summary: base + ".json")
            }
            let weightsPath = try backbone.resolvedWeightsPath()
            func checkOutputs(classes: [String]) throws {
                try OutputPlan.check(zip(images, outputs).flatMap { image, files in
                    var planned = [files.labels, files.overlay]
                    if summary { planned.append(files.summary) }
                    if masks { planned += classes.map(files.mask) }
                    if probabilities { planned += classes.map(files.probability) }
                    return planned.map { (input: image, output: $0) }
                } + (coco.map { [(input: images.first ?? "", output: $0)] } ?? []),
                    otherInputs: [weightsPath])
            }
            try checkOutputs(classes: [])
            var segmenter = try Backbone.load(weightsAt: weightsPath).registry(at: registryOptions.directory)
                .segmenter(crf: crfParameters, allowStale: allowStale)
            try adjustmentOptions.configure(&segmenter.pipeline, registry: segmenter.registry)
            segmenter.pipeline.testTimeFlip = tta
            let classes = segmenter.pipeline.segmenter.classes
            let sameTags = try tags.map { list in
                let names = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                // Checked before any image: a misspelt class would otherwise remove that class from every result.
                _ = try PredictionAdjustment.allowedChannels(tags: names, channelNames: classes)
                return names
            }
            let tagsByImage = try tagsFrom.map { try Self.tags(of: images, from: $0, classes: Set(classes.dropFirst())) }
            for problem in segmenter.registry.problems { printError("warning: \(problem)") }
            if let warning = segmenter.staleWarning { printError("warning: \(warning)") }
            // The per-class files too, now that the classes are known.
            try checkOutputs(classes: segmenter.classNames)
            try Self.makeDirectory(out)
            var progress = ProgressReporter(total: images.count, label: "segment", lines: true)
            var failures = 0
            var summaries: [ImageSummary] = []
            var results: [COCOResult] = []
            let imageIDs = Self.imageIDs(stems: outputs.map(\.stem))
            for (index, (path, files)) in zip(images, outputs).enumerated() {
                do {
                    let result = try segmenter.segment(imageAt: path, tags: tagsByImage?[index] ?? sameTags)
                    try PNGEncoder.write(result.labels, palette: result.palette, to: files.labels)
                    try PNGEncoder.write(result.overlayWithLegend(), to: files.overlay)
                    let named = result.areas.map {
                        ImageSummary.ClassArea(name: $0.name, label: Int($0.label), pixels: $0.pixels,
                                               area: $0.fraction, meanConfidence: $0.meanConfidence)
                    }
                    let imageSummary = ImageSummary(image: path, width: result.image.width, height: result.image.height,
                                                    labels: files.labels, overlay: files.overlay, classes: named)
                    for area in result.areas where area.label != 0 {
                        if masks { try PNGEncoder.write(result.maskImage(label: area.label), to: files.mask(area.name)) }
                        if probabilities, let map = result.probabilityImage(label: area.label) {
                            try PNGEncoder.write(map, to: files.probability(area.name))
                        }
                        if coco != nil {
                            let rle = result.runLength(label: area.label)
                            results.append(COCOResult(image_id: imageIDs[index], category_id: Int(area.label),
                                                      segmentation: .init(size: rle.size, counts: rle.counts),
                                                      score: area.meanConfidence, file_name: path))
                        }
                    }
                    if summary {
                        try RegularFile.writeAtomically(Array(try JSONOutput.encoder().encode(imageSummary)) + [10],
                                                        to: files.summary)
                    }
                    summaries.append(imageSummary)
                    if !json { print(Self.describe(path: path, classes: named)) }
                } catch {
                    failures += 1
                    printError("error: \(path): \(error)")
                }
                progress.advance()
            }
            progress.finish()
            if let coco {
                try RegularFile.writeAtomically(Array(try JSONOutput.encoder().encode(results)) + [10], to: coco)
            }
            if json { try JSONOutput.print(summaries) }
            if failures > 0 { throw ExitCode(failures == images.count ? 1 : 2) }
        }

        /// "photo.jpg: giraffe 31.2 % (confidence 0.87), person 4.1 % (0.65); background 64.7 %":
        /// foreground classes largest first, those under 0.05 % of the image left out.
        static func describe(path: String, classes: [ImageSummary.ClassArea]) -> String {
            let shown = classes.filter { $0.label != 0 && $0.area >= SegmentationResult.smallestListedArea }
            let text = shown.enumerated().map { k, c in
                String(format: "%@ %.1f %% (%@%.2f)", c.name, c.area * 100, k == 0 ? "confidence " : "", c.meanConfidence)
            }
            let background = classes.first { $0.label == 0 }.map { String(format: "background %.1f %%", $0.area * 100) }
            return "\(path): " + (shown.isEmpty ? "no class" : text.joined(separator: ", "))
                + (background.map { "; " + $0 } ?? "")
        }

        /// COCO image ids: the file names' numbers when every name is a distinct number
        /// (COCO's 000000000025.jpg → 25), else each image's position in the batch, from 1.
        static func imageIDs(stems: [String]) -> [Int] {
            let numbers = stems.map { stem -> Int? in
                stem.allSatisfy { $0.isASCII && $0.isNumber } ? Int(stem) : nil
            }
            let ids = numbers.compactMap { $0 }
            if ids.count == stems.count, Set(ids).count == ids.count { return ids }
            return stems.indices.map { $0 + 1 }
        }

        /// Refuses an --out that exists and is not a folder (before anything is computed).
        static func checkFolder(_ out: String) throws {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
                throw FileAccessError.notWritable(path: out, reason: "it is a file, but --out must be a folder")
            }
        }

        /// Creates the output folder, with a message naming it (not Foundation's raw error).
        static func makeDirectory(_ out: String) throws {
            try checkFolder(out)
            do { try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true) } catch {
                throw FileAccessError.notWritable(path: out, reason: "the folder cannot be created "
                    + "(a file is in the way on its path, or a parent folder is not writable)")
            }
        }
    }
}
