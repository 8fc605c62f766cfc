"""Exact integer counts of a fraction of n, with no float64 on the device.

A mask update drops `floor(p * n)` of a layer's n active weights (Eq. 1 of
the paper), and gradual magnitude pruning keeps `round((1 - s) * n)` of n.
TPUs have no float64, and float32 arithmetic can round `p * n` across an
integer. A float32 fraction is exactly `mantissa / 2**shift` (a 24-bit
integer over a power of two), so `p * n` is the exact rational
`mantissa * n / 2**shift`: an int64 product and a shift give its floor,
and the remainder says where it lies against the half. Every op here has an
XLA kernel; the counts equal numpy's `floor(np.float32(p) * n)` computed in
float64 (exact for n < 2**29).
"""

import tensorflow as tf

_MANTISSA_BITS = 23
_EXPONENT_BIAS_PLUS_MANTISSA = 150  # 127 + 23.
_MAX_SHIFT = 62  # mantissa * n < 2**55: a shift past 62 leaves 0.


def _fraction_as_ratio(fraction):
  """(mantissa, shift) int64 with float32(fraction) == mantissa / 2**shift.

  `fraction` must be finite and >= 0 (the callers validate it).
  """
  bits = tf.bitcast(tf.cast(fraction, tf.float32), tf.int32)
  exponent = tf.bitwise.bitwise_and(
      tf.bitwise.right_shift(bits, _MANTISSA_BITS), 0xff)
  fraction_bits = tf.bitwise.bitwise_and(bits, (1 << _MANTISSA_BITS) - 1)
  normal = exponent > 0  # Subnormals have no hidden bit and exponent 1.
  mantissa = tf.where(normal, tf.bitwise.bitwise_or(
      fraction_bits, 1 << _MANTISSA_BITS), fraction_bits)
  shift = _EXPONENT_BIAS_PLUS_MANTISSA - tf.maximum(exponent, 1)
  return tf.cast(mantissa, tf.int64), tf.cast(shift, tf.int64)


def _floor_and_remainder(fraction, n):
  """(floor(p n), remainder vs half: -1, 0 or 1), p = float32(fraction)."""
  mantissa, shift = _fraction_as_ratio(fraction)
  product = mantissa * tf.cast(n, tf.int64)
  in_range = shift <= _MAX_SHIFT
  safe_shift = tf.minimum(shift, _MAX_SHIFT)
  floor = tf.where(in_range, tf.bitwise.right_shift(product, safe_shift), 0)
  remainder = product - tf.bitwise.left_shift(floor, safe_shift)
  half = tf.bitwise.left_shift(tf.constant(1, tf.int64), safe_shift - 1)
  # Past the range the value is below 2**-7: below the half.
  versus_half = tf.where(in_range, tf.sign(remainder - half),
                         tf.constant(-1, tf.int64))
  return floor, remainder, versus_half


def floor_count(fraction, n):
  """floor(fraction * n) as int32, exactly (fraction in [0, 1], n >= 0)."""
  floor, _, _ = _floor_and_remainder(fraction, n)
  return tf.cast(floor, tf.int32)


def rounded_complement_count(fraction, n):
  """round((1 - fraction) * n) as int32, exactly, ties to even (tf.round).

  With p n = q + r (0 <= r < 1): (1 - p) n is n - q if r = 0, else
  (n - q - 1) + (1 - r), which rounds down when r > 1/2 and up when
  r < 1/2.
  """
  floor, remainder, versus_half = _floor_and_remainder(fraction, n)
  n = tf.cast(n, tf.int64)
  upper = n - floor
  lower = upper - 1
  tie_to_even = tf.where(tf.equal(tf.math.floormod(lower, 2), 0), lower,
                         upper)
  rounded = tf.where(versus_half > 0, lower,
                     tf.where(versus_half < 0, upper, tie_to_even))
  return tf.cast(tf.where(tf.equal(remainder, 0), upper, rounded), tf.int32)
