import Benchmark
Benchmark.main()
