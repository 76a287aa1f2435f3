echo "NSLAB-VM: plan placeholder"
