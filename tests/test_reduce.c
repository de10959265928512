/* The fixed-tree reduction of host/dist/reduce.c without MPI: every split of M leaves over N ranks (the subtrees each
 * rank sums, then the tree finished from them) gives the bits of the whole tree summed on one process, and the
 * micro-batches of training change the rounding only. */
#include <math.h>
#include <stdio.h>

#include "dist/dist.h"
#include "helpers.h"
#include "philox.h"

#define WIDTH 37 /* floats per leaf */
#define MOST_LEAVES 40
#define MOST_RANKS 9

/* Leaf values spread over many magnitudes and signs, so that any change of order changes the rounding. */
static void make_leaves(float *leaves, size_t count) {
    for (size_t i = 0; i < count * WIDTH; i++) {
        oi_philox_words w = oi_philox_block(11, 5, i);
        float mantissa = (float)(w.w[0] >> 8) / 16777216.0f, sign = w.w[1] & 1 ? -1.0f : 1.0f;
        leaves[i] = sign * ldexpf(1.0f + mantissa, (int)(w.w[2] % 40) - 20);
    }
}

/* The definition, recursively: leaves [first, first + 2^level) cut to [0, leaves). */
static void definition(const float *leaves_in, uint64_t leaves, unsigned level, uint64_t first, float *out) {
    if (level == 0) {
        memcpy(out, leaves_in + first * WIDTH, WIDTH * sizeof(float));
        return;
    }
    uint64_t half = (uint64_t)1 << (level - 1);
    definition(leaves_in, leaves, level - 1, first, out);
    if (first + half >= leaves) return;
    float right[WIDTH];
    definition(leaves_in, leaves, level - 1, first + half, right);
    for (size_t j = 0; j < WIDTH; j++) out[j] = out[j] + right[j];
}

/* A node summed on a stack as its leaves come (as training sums its micro-batches); its value into out. */
static void stacked(const float *leaves_in, uint64_t leaves, oi_tree_node node, float *out) {
    float stack[8][WIDTH];
    size_t depth = 0;
    uint64_t first = node.index << node.level;
    for (uint64_t leaf = first; leaf < first + ((uint64_t)1 << node.level) && leaf < leaves; leaf++) {
        assert_true(depth <= node.level);
        memcpy(stack[depth++], leaves_in + leaf * WIDTH, WIDTH * sizeof(float));
        for (size_t merges = oi_tree_merges(leaves, node, leaf, depth); merges > 0; merges--, depth--)
            for (size_t j = 0; j < WIDTH; j++) stack[depth - 2][j] = stack[depth - 2][j] + stack[depth - 1][j];
    }
    assert_true(depth == 1);
    memcpy(out, stack[0], WIDTH * sizeof(float));
}

/* N ranks, simulated: rank r sums the subtrees of its leaves on its stack, and their values, in rank order, finish
 * the tree, as oi_dist_tree_sum does on each segment. */
static void split_tree(const float *leaves_in, uint64_t leaves, int ranks, float *sum) {
    static float values[2 * MOST_RANKS * 8 * WIDTH];
    oi_tree_node nodes[2 * MOST_RANKS * 8];
    size_t node_count = 0;
    for (int r = 0; r < ranks; r++) {
        uint64_t first, end;
        oi_dist_range(leaves, 1, r, ranks, &first, &end);
        oi_tree_node mine[128];
        size_t count = oi_tree_cover(first, end, mine);
        assert_true(count <= 2 * (size_t)oi_tree_levels(leaves) + 2);
        for (size_t n = 0; n < count; n++) {
            stacked(leaves_in, leaves, mine[n], values + node_count * WIDTH);
            nodes[node_count++] = mine[n];
        }
    }
    assert_ok(oi_tree_finish(leaves, nodes, node_count, values, WIDTH, WIDTH, sum));
}

static void any_split_gives_the_same_bits(void **state) {
    (void)state;
    static float leaves[MOST_LEAVES * WIDTH];
    make_leaves(leaves, MOST_LEAVES);
    bool order_matters = false;
    for (uint64_t m = 1; m <= MOST_LEAVES; m++) {
        float whole[WIDTH], one[WIDTH], sum[WIDTH];
        definition(leaves, m, oi_tree_levels(m), 0, whole);
        stacked(leaves, m, (oi_tree_node){oi_tree_levels(m), 0}, one);
        assert_true(first_difference(whole, one, WIDTH, "one process") < 0);
        for (int ranks = 1; ranks <= MOST_RANKS; ranks++) {
            split_tree(leaves, m, ranks, sum);
            if (first_difference(whole, sum, WIDTH, "split tree") >= 0) {
                print_error("%llu leaves over %d ranks\n", (unsigned long long)m, ranks);
                fail();
            }
        }
        /* The test can fail: summing left to right gives other bits. */
        for (size_t j = 0; j < WIDTH; j++) {
            float sequential = 0;
            for (uint64_t k = 0; k < m; k++) sequential += leaves[k * WIDTH + j];
            order_matters |= sequential != whole[j];
        }
    }
    assert_true(order_matters);
}

/* The subtrees of a range cover it exactly, in order, each aligned to its size. */
static void covers_are_exact(void **state) {
    (void)state;
    for (uint64_t first = 0; first < 70; first++)
        for (uint64_t end = first; end < 140; end++) {
            oi_tree_node nodes[128];
            size_t count = oi_tree_cover(first, end, nodes);
            uint64_t at = first;
            for (size_t k = 0; k < count; k++) {
                assert_true((nodes[k].index << nodes[k].level) == at);
                at += (uint64_t)1 << nodes[k].level;
            }
            assert_true(at == end);
            assert_true(count <= 2 * (size_t)oi_tree_levels(end) + 2);
        }
}

/* Micro-batches change the rounding of the gradients' sums, not the mathematics: training with 1, 3 and 8 of them
 * ends within float rounding of each other. */
static void micro_batches_change_only_the_rounding(void **state) {
    (void)state;
    static float x[2 * 600], y[600];
    assert_ok(oclinit_dataset_make(OCLINIT_DATASET_MOONS, 600, 0.1, 1, 100, x, y));
    float params[3][100];
    const size_t counts[3] = {1, 3, 8};
    for (int k = 0; k < 3; k++) {
        oclinit_network_shape shape = {2, 10, 5, OCLINIT_ACTIVATION_TANH, 0};
        oclinit_network_t net = NULL;
        assert_ok(oclinit_network_create(NULL, &shape, &net));
        oclinit_scheme scheme = oclinit_scheme_default(OCLINIT_SCHEME_XAVIER_NORMAL);
        assert_ok(oclinit_network_init(net, &scheme, 3));
        oclinit_train_options o = oclinit_train_options_default();
        o.iterations = 100;
        o.learning_rate = 0.1;
        o.micro_batches = counts[k];
        assert_ok(oclinit_network_train(net, x, y, 600, &o, NULL));
        assert_true(oclinit_network_get_parameter_count(net) <= 100);
        assert_ok(oclinit_network_get_parameters(net, params[k]));
        for (size_t i = 0; k > 0 && i < oclinit_network_get_parameter_count(net); i++)
            assert_true(fabsf(params[k][i] - params[0][i]) <= 1e-4f * fmaxf(1.0f, fabsf(params[0][i])));
        oclinit_network_free(net);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(any_split_gives_the_same_bits),
        cmocka_unit_test(covers_are_exact),
        cmocka_unit_test(micro_batches_change_only_the_rounding),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
