import DivSegCore
import Dispatch
let chans = [(3,64),(64,64),(64,128),(128,128),(128,256),(256,256),(256,256),(256,512),(512,512),(512,512),(512,512),(512,512),(512,512)]
let pools: Set<Int> = [1,3,6,9]
var convs: [Conv3x3] = []
for (i,(a,b)) in chans.enumerated() {
  let k = (0..<(a*b*9)).map { _ in Float.random(in: -0.05...0.05) }
  convs.append(Conv3x3(kernelOIHW: k, bias: [Float](repeating: 0.01, count: b), inChannels: a, outChannels: b))
  _ = i
}
let x0 = Tensor(shape: [3,256,336], scalars: (0..<(3*256*336)).map { _ in Float.random(in: -100...100) })
for run in 0..<4 {
  var x = x0
  var t = DispatchTime.now().uptimeNanoseconds
  let t0 = t
  var per: [Double] = []
  for (i,c) in convs.enumerated() {
    x = c(x)
    let n = DispatchTime.now().uptimeNanoseconds; per.append(Double(n-t)/1e6); t = n
    if pools.contains(i) { x = Pooling.max(x) }
  }
  print(run, Double(DispatchTime.now().uptimeNanoseconds - t0)/1e9, per.map{Int($0)})
}
