"""Hosts: what a program expects around it (memory, table, stack, heap, host functions)."""
