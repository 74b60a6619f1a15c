import DivSegDatasets
import Testing

@Suite("Dataset class names")
struct DatasetClassNamesTests {
    @Test("the VOC list has the 20 classes in the usual order")
    func vocOrder() {
        #expect(ClassNames.voc.count == 20)
        #expect(ClassNames.voc.first == "aeroplane")
        #expect(ClassNames.voc[10] == "diningtable")
        #expect(ClassNames.voc[14] == "person")
        #expect(ClassNames.voc.last == "tvmonitor")
        #expect(Set(ClassNames.voc).count == 20)
    }

    @Test("COCO spellings map to VOC names, case-insensitively and trimmed",
          arguments: [("airplane", "aeroplane"), ("Motorcycle", "motorbike"), (" couch ", "sofa"),
                      ("Dining Table", "diningtable"), ("dining  table", "diningtable"),
                      ("potted plant", "pottedplant"), ("TV", "tvmonitor"), ("aeroplane", "aeroplane")])
    func aliases(name: String, expected: String) {
        #expect(ClassNames.canonical(name) == expected)
        #expect(ClassNames.standard.canonical(name) == expected)
    }

    @Test("other names pass through lower-cased")
    func passThrough() {
        #expect(ClassNames.canonical("Giraffe") == "giraffe")
        #expect(ClassNames.canonical("elephant") == "elephant")
        #expect(ClassNames.canonical(" Teddy Bear") == "teddy_bear")
        #expect(ClassNames.canonical("person") == "person")
    }

    /// Issue #10 (COCO names with spaces): the canonical name of a multi-word category is a
    /// valid class name, and every spelling of it maps to the same name.
    @Test("multi-word names join their words with '_'; aliases may be written with '_'",
          arguments: [("traffic light", "traffic_light"), ("Hot  Dog", "hot_dog"), ("traffic_light", "traffic_light"),
                      ("hair drier", "hair_drier"), ("dining_table", "diningtable"), ("potted_plant", "pottedplant")])
    func multiWord(name: String, expected: String) {
        #expect(ClassNames.canonical(name) == expected)
        if !ClassNames.cocoAliases.values.contains(expected) {
            #expect(ClassNames.spelled(expected) == ClassNames.normalize(name).replacingOccurrences(of: "_", with: " "))
        }
    }

    @Test("a bundle alias whose target has words maps onto the joined name")
    func aliasToMultiWord() {
        let names = ClassNames.standard.adding(aliases: ["stoplight": "Traffic Light"])
        #expect(names.canonical("stoplight") == "traffic_light")
        #expect(names.canonical("traffic light") == "traffic_light")
    }

    @Test("every VOC class is its own canonical name; the alias table is exposed")
    func vocIsCanonical() {
        for name in ClassNames.voc { #expect(ClassNames.canonical(name) == name) }
        #expect(ClassNames.cocoAliases.count == 6)
        #expect(ClassNames.standard.aliases["dining table"] == "diningtable")
    }

    @Test("a bundle can extend the alias table without changing the standard one")
    func extend() {
        let names = ClassNames.standard.adding(aliases: ["Camelopard": "Giraffe", "plane": "aeroplane"])
        #expect(names.canonical("camelopard ") == "giraffe")
        #expect(names.canonical("PLANE") == "aeroplane")
        #expect(names.canonical("couch") == "sofa")
        #expect(ClassNames.canonical("camelopard") == "camelopard")
        #expect(ClassNames(aliases: ["a": "b"]).canonical("airplane") == "airplane")
    }
}
