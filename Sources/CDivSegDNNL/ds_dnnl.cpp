// oneDNN convolution stack (see CDivSegDNNL.h). The C++ API is used inside; only C crosses
// into Swift, and no C++ exception escapes.
#include "CDivSegDNNL.h"

#include <dnnl.hpp>

#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

using dnnl::memory;
using tag = dnnl::memory::format_tag;
using dt = dnnl::memory::data_type;

namespace {

struct Layer {
    int in, out;
    bool pool_before;
    std::vector<float> kernel, bias;
};

// Primitives and reordered weights for one input size: built once, executed by any number of
// runs concurrently (the scratchpad is given per execution, so primitives hold no state).
struct Plan {
    struct Step {
        bool pool = false;
        dnnl::pooling_forward pooling;
        memory::desc pool_dst;
        memory::desc conv_src;  // what the convolution wants (reorder if the previous differs)
        dnnl::convolution_forward conv;
        memory::desc conv_dst;
        memory weights, bias;
        memory::desc plain_dst;
        dnnl::reorder to_plain;
        size_t scratchpad = 0;
        std::string impl;
    };
    memory::desc input_plain;
    std::vector<Step> steps;
    size_t scratchpad = 0;

    // The activations of one run. Kept for the next run instead of freed: fresh 10–50 MB
    // buffers per layer cost tens of thousands of page faults per image.
    struct Workspace {
        memory input, scratchpad;
        std::vector<memory> pooled, reordered, output;
    };
    std::mutex mutex;
    std::vector<std::unique_ptr<Workspace>> idle;

    std::unique_ptr<Workspace> take(const dnnl::engine &engine) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (!idle.empty()) {
                auto w = std::move(idle.back());
                idle.pop_back();
                return w;
            }
        }
        auto w = std::make_unique<Workspace>();
        w->input = memory(input_plain, engine);
        if (scratchpad) w->scratchpad = memory({{(dnnl::memory::dim)scratchpad}, dt::u8, tag::x}, engine);
        memory::desc previous = input_plain;
        for (const Step &step : steps) {
            w->pooled.push_back(step.pool ? memory(step.pool_dst, engine) : memory());
            if (step.pool) previous = step.pool_dst;
            w->reordered.push_back(previous != step.conv_src ? memory(step.conv_src, engine) : memory());
            w->output.push_back(memory(step.conv_dst, engine));
            previous = step.conv_dst;
        }
        return w;
    }

    void give_back(std::unique_ptr<Workspace> w) {
        std::lock_guard<std::mutex> lock(mutex);
        idle.push_back(std::move(w));
    }
};

void fail(char *msg, size_t cap, const char *what) {
    if (msg && cap) snprintf(msg, cap, "%s", what);
}

}  // namespace

struct ds_conv_stack {
    dnnl::engine engine{dnnl::engine::kind::cpu, 0};
    std::vector<Layer> layers;
    std::mutex mutex;
    std::map<std::pair<int, int>, std::shared_ptr<Plan>> plans;

    std::shared_ptr<Plan> plan(int height, int width) {
        std::lock_guard<std::mutex> lock(mutex);
        auto &slot = plans[{height, width}];
        if (!slot) slot = build(height, width);
        return slot;
    }

    std::shared_ptr<Plan> build(int h, int w) {
        auto plan = std::make_shared<Plan>();
        dnnl::stream stream(engine);
        plan->input_plain = memory::desc({1, layers[0].in, h, w}, dt::f32, tag::nchw);
        memory::desc previous = plan->input_plain;
        for (const Layer &layer : layers) {
            Plan::Step step;
            dnnl::primitive_attr pool_attr;
            pool_attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
            if (layer.pool_before) {
                h /= 2;
                w /= 2;
                memory::desc dst({1, layer.in, h, w}, dt::f32, tag::any);
                dnnl::pooling_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::pooling_max,
                                              previous, dst, {2, 2}, {2, 2}, {0, 0}, {0, 0});
                dnnl::pooling_forward::primitive_desc pd(d, pool_attr, engine);
                step.pool = true;
                step.pooling = dnnl::pooling_forward(pd);
                step.pool_dst = pd.dst_desc();
                step.scratchpad = pd.scratchpad_desc().get_size();
                previous = pd.dst_desc();
            }
            memory::desc src({1, layer.in, h, w}, dt::f32, tag::any);
            memory::desc wei({layer.out, layer.in, 3, 3}, dt::f32, tag::any);
            memory::desc bia({layer.out}, dt::f32, tag::x);
            memory::desc dst({1, layer.out, h, w}, dt::f32, tag::any);
            dnnl::post_ops relu;
            relu.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
            dnnl::primitive_attr attr;
            attr.set_post_ops(relu);
            attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
            dnnl::convolution_forward::desc cd(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                               src, wei, bia, dst, {1, 1}, {1, 1}, {1, 1});
            dnnl::convolution_forward::primitive_desc pd(cd, attr, engine);
            step.conv = dnnl::convolution_forward(pd);
            step.conv_src = pd.src_desc();
            step.conv_dst = pd.dst_desc();
            step.scratchpad = std::max(step.scratchpad, pd.scratchpad_desc().get_size());
            step.impl = pd.impl_info_str();
            memory plain_kernel({{layer.out, layer.in, 3, 3}, dt::f32, tag::oihw}, engine,
                                const_cast<float *>(layer.kernel.data()));
            step.weights = memory(pd.weights_desc(), engine);
            dnnl::reorder(plain_kernel, step.weights).execute(stream, plain_kernel, step.weights);
            step.bias = memory(bia, engine);
            std::memcpy(step.bias.get_data_handle(), layer.bias.data(), layer.bias.size() * sizeof(float));
            step.plain_dst = memory::desc({1, layer.out, h, w}, dt::f32, tag::nchw);
            step.to_plain = dnnl::reorder(dnnl::reorder::primitive_desc(engine, step.conv_dst, engine, step.plain_dst));
            plan->scratchpad = std::max(plan->scratchpad, step.scratchpad);
            previous = step.conv_dst;
            plan->steps.push_back(std::move(step));
        }
        stream.wait();
        return plan;
    }
};

struct ds_conv_run {
    ds_conv_stack *stack;
    std::shared_ptr<Plan> plan;
    std::unique_ptr<Plan::Workspace> workspace;
    dnnl::stream stream;
    memory current;      // the previous layer's output (or the input), in its own layout
    size_t next = 0;

    ~ds_conv_run() {
        if (workspace) plan->give_back(std::move(workspace));
    }
};

extern "C" {

ds_conv_stack *ds_conv_stack_create(int count, const int *in_channels, const int *out_channels,
                                    const int *pool_before, const float *const *kernels_oihw,
                                    const float *const *biases, char *msg, size_t cap) {
    try {
        auto stack = std::make_unique<ds_conv_stack>();
        for (int i = 0; i < count; i++) {
            Layer layer{in_channels[i], out_channels[i], pool_before[i] != 0, {}, {}};
            layer.kernel.assign(kernels_oihw[i], kernels_oihw[i] + (size_t)layer.out * layer.in * 9);
            layer.bias.assign(biases[i], biases[i] + layer.out);
            stack->layers.push_back(std::move(layer));
        }
        if (stack->layers.empty()) {
            fail(msg, cap, "a convolution stack needs at least one layer");
            return nullptr;
        }
        return stack.release();
    } catch (const std::exception &e) {
        fail(msg, cap, e.what());
        return nullptr;
    }
}

void ds_conv_stack_destroy(ds_conv_stack *stack) { delete stack; }

const char *ds_conv_stack_implementation(ds_conv_stack *stack, int height, int width) {
    try {
        auto plan = stack->plan(height, width);
        size_t largest = plan->steps.size() > 1 ? 1 : 0;
        return plan->steps[largest].impl.c_str();
    } catch (...) {
        return "";
    }
}

ds_conv_run *ds_conv_run_begin(ds_conv_stack *stack, int height, int width, const float *input,
                               char *msg, size_t cap) {
    try {
        auto run = std::make_unique<ds_conv_run>();
        run->stack = stack;
        run->plan = stack->plan(height, width);
        run->stream = dnnl::stream(stack->engine);
        run->workspace = run->plan->take(stack->engine);
        run->current = run->workspace->input;
        std::memcpy(run->current.get_data_handle(), input, run->plan->input_plain.get_size());
        return run.release();
    } catch (const std::exception &e) {
        fail(msg, cap, e.what());
        return nullptr;
    }
}

int ds_conv_run_next(ds_conv_run *run, float *output, char *msg, size_t cap) {
    try {
        if (run->next >= run->plan->steps.size()) {
            fail(msg, cap, "every layer of the stack has run already");
            return 1;
        }
        size_t index = run->next++;
        const Plan::Step &step = run->plan->steps[index];
        dnnl::engine &engine = run->stack->engine;
        Plan::Workspace &w = *run->workspace;
        auto with_scratchpad = [&](std::unordered_map<int, memory> args) {
            if (run->plan->scratchpad) args[DNNL_ARG_SCRATCHPAD] = w.scratchpad;
            return args;
        };
        if (step.pool) {
            step.pooling.execute(run->stream, with_scratchpad({{DNNL_ARG_SRC, run->current}, {DNNL_ARG_DST, w.pooled[index]}}));
            run->current = w.pooled[index];
        }
        if (w.reordered[index]) {
            dnnl::reorder(run->current, w.reordered[index]).execute(run->stream, run->current, w.reordered[index]);
            run->current = w.reordered[index];
        }
        memory dst = w.output[index];
        step.conv.execute(run->stream, with_scratchpad({{DNNL_ARG_SRC, run->current}, {DNNL_ARG_WEIGHTS, step.weights},
                                                         {DNNL_ARG_BIAS, step.bias}, {DNNL_ARG_DST, dst}}));
        memory plain(step.plain_dst, engine, output);
        step.to_plain.execute(run->stream, dst, plain);
        run->stream.wait();
        run->current = dst;
        return 0;
    } catch (const std::exception &e) {
        fail(msg, cap, e.what());
        return 1;
    }
}

void ds_conv_run_end(ds_conv_run *run) { delete run; }

}  // extern "C"
