"""Input data: splits and their tf.data pipelines, CIFAR and ImageNet.

A Split is a dataset in a fixed order with its identity; cifar and imagenet
load them (TFDS or local files) and preprocess as the authors' loaders.
"""
